"""Customers (API.md §3): every field bound, filter and error path, through HTTP."""

import pytest

from app.core.times import parse_instant
from tests.conftest import assert_error, unchanged

URL = "/modules/booking/customers"


def test_create_returns_201_with_every_field(client, admin_headers):
    body = {
        "name": "Ada Lovelace",
        "external_id": "crm-1",
        "phone": "+44 20 7946 0000",
        "email": "ada@example.com",
        "tags": ["vip", "regular"],
        "metadata": {"notes": "tea"},
    }
    response = client.post(URL, json=body, headers=admin_headers)
    assert response.status_code == 201
    data = response.json["data"]
    assert response.json["status"] == "ok"
    assert data["id"].startswith("cus_")
    assert {k: data[k] for k in body} == body
    assert data["created_at"].endswith("Z") and data["created_at"] == data["updated_at"]


def test_minimal_create_fills_defaults(client, admin_headers):
    data = client.post(URL, json={"name": "Bo"}, headers=admin_headers).json["data"]
    assert data["tags"] == [] and data["metadata"] == {}
    assert data["email"] is None and data["phone"] is None and data["external_id"] is None


def test_duplicate_tags_collapse_in_order(make_customer):
    assert make_customer(tags=["b", "a", "b", "a"])["tags"] == ["b", "a"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 257}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"name": "A", "external_id": "x" * 257}, "external_id"),
        ({"name": "A", "phone": "1" * 65}, "phone"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "email": ".ada@example.com"}, "email"),
        ({"name": "A", "email": "ada..x@example.com"}, "email"),
        ({"name": "A", "email": "ada@example"}, "email"),
        ({"name": "A", "tags": "vip"}, "tags"),
        ({"name": "A", "tags": ["t"] * 51}, "tags"),
        ({"name": "A", "tags": [""]}, "tags.0"),
        ({"name": "A", "tags": ["x" * 65]}, "tags.0"),
        ({"name": "A", "metadata": []}, "metadata"),
        ({"name": "A", "metadata": {"blob": "x" * 16400}}, "metadata"),
        ({"name": "A", "metadata": {"n": float("nan")}}, "metadata"),  # Python's json sends NaN
        ({"name": "A", "metadata": {"n": [float("-inf")]}}, "metadata"),
        ({"name": "A", "nmae": "typo"}, "nmae"),
    ],
)
def test_invalid_create_is_422_naming_the_field_and_changes_nothing(
    client, db, admin_headers, body, field
):
    with unchanged(db):
        response = client.post(URL, json=body, headers=admin_headers)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


def test_bounds_at_their_limits_are_accepted(make_customer):
    customer = make_customer(
        name="x" * 256,
        external_id="e" * 256,
        phone="1" * 64,
        tags=[f"t{i}" for i in range(50)],
        metadata={"blob": "x" * 16000},
    )
    assert len(customer["tags"]) == 50 and len(customer["name"]) == 256


def test_every_field_error_is_reported_at_once(client, admin_headers):
    response = client.post(URL, json={"name": "", "email": "x", "bogus": 1}, headers=admin_headers)
    fields = {d["field"] for d in assert_error(response, 422, "validation_error")["details"]}
    assert fields == {"name", "email", "bogus"}


def test_unknown_field_is_named_in_the_message(client, admin_headers):
    response = client.post(URL, json={"name": "A", "emial": "a@b.co"}, headers=admin_headers)
    detail = assert_error(response, 422, "validation_error")["details"][0]
    assert detail == {"field": "emial", "message": "Unknown field 'emial'."}


def test_get_returns_the_customer(client, read_headers, make_customer):
    customer = make_customer(email="ada@example.com")
    response = client.get(f"{URL}/{customer['id']}", headers=read_headers)
    assert response.status_code == 200 and response.json["data"] == customer


def test_get_unknown_id_is_404(client, read_headers):
    assert_error(client.get(f"{URL}/cus_nope", headers=read_headers), 404, "not_found")


def test_patch_changes_only_the_sent_fields(client, write_headers, make_customer):
    customer = make_customer(phone="123", tags=["a"])
    response = client.patch(
        f"{URL}/{customer['id']}", json={"name": "Ada K"}, headers=write_headers
    )
    data = response.json["data"]
    assert response.status_code == 200
    assert data["name"] == "Ada K" and data["phone"] == "123" and data["tags"] == ["a"]
    # As text, "…:46.002Z" sorts before "…:46Z": compare instants.
    assert parse_instant(data["updated_at"]) >= parse_instant(customer["updated_at"])


def test_patch_null_external_id_clears_it(client, write_headers, make_customer):
    customer = make_customer(external_id="crm-9")
    response = client.patch(
        f"{URL}/{customer['id']}", json={"external_id": None}, headers=write_headers
    )
    assert response.json["data"]["external_id"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"phone": None},
        {"tags": None},
        {"name": ""},
        {"email": "nope"},
        {"color": "red"},
    ],
)
def test_invalid_patch_is_422_and_changes_nothing(client, db, write_headers, make_customer, body):
    customer = make_customer()
    with unchanged(db):
        response = client.patch(f"{URL}/{customer['id']}", json=body, headers=write_headers)
    assert_error(response, 422, "validation_error")


def test_patch_with_no_real_change_writes_no_change_row(client, db, write_headers, make_customer):
    customer = make_customer(name="Same")
    with unchanged(db):
        response = client.patch(
            f"{URL}/{customer['id']}", json={"name": "Same"}, headers=write_headers
        )
    assert response.status_code == 200


def test_patch_unknown_id_is_404_after_validation(client, db, write_headers):
    with unchanged(db):
        assert_error(
            client.patch(f"{URL}/cus_nope", json={"name": "X"}, headers=write_headers),
            404,
            "not_found",
        )
        # check order: body validation (422) comes before the lookup (404)
        assert_error(
            client.patch(f"{URL}/cus_nope", json={"name": ""}, headers=write_headers),
            422,
            "validation_error",
        )


def test_delete_needs_admin_and_removes_for_good(
    client, db, write_headers, admin_headers, make_customer
):
    customer = make_customer()
    with unchanged(db):
        assert_error(
            client.delete(f"{URL}/{customer['id']}", headers=write_headers), 403, "forbidden"
        )
    response = client.delete(f"{URL}/{customer['id']}", headers=admin_headers)
    assert response.status_code == 200 and response.json["data"]["id"] == customer["id"]
    assert_error(client.get(f"{URL}/{customer['id']}", headers=admin_headers), 404, "not_found")
    assert_error(client.delete(f"{URL}/{customer['id']}", headers=admin_headers), 404, "not_found")


def _names(client, headers, query=""):
    return [c["name"] for c in client.get(f"{URL}{query}", headers=headers).json["data"]]


def test_list_is_oldest_first(client, read_headers, make_customer):
    for name in ("A", "B", "C"):
        make_customer(name=name)
    assert _names(client, read_headers) == ["A", "B", "C"]


def test_list_filters_by_email_exactly_ignoring_case(client, read_headers, make_customer):
    make_customer(name="A", email="Ada@Example.com")
    make_customer(name="B", email="ada@example.co")
    assert _names(client, read_headers, "?email=ada@example.COM") == ["A"]


def test_list_q_searches_name_email_phone_and_external_id(client, read_headers, make_customer):
    make_customer(name="Grace Hopper")
    make_customer(name="B", email="hopper@navy.mil")
    make_customer(name="C", phone="555-HOPPER")
    make_customer(name="D", external_id="x-hopper-1")
    make_customer(name="Alan")
    assert _names(client, read_headers, "?q=hopper") == ["Grace Hopper", "B", "C", "D"]


def test_list_q_treats_percent_and_underscore_literally(client, read_headers, make_customer):
    make_customer(name="100% club")
    make_customer(name="1000 club")
    assert _names(client, read_headers, "?q=0%25") == ["100% club"]
    assert _names(client, read_headers, "?q=_") == []


def test_list_tags_means_having_all_of_them(client, read_headers, make_customer):
    make_customer(name="A", tags=["vip", "regular"])
    make_customer(name="B", tags=["vip"])
    make_customer(name="C", tags=["regular"])
    assert _names(client, read_headers, "?tags=vip,regular") == ["A"]
    assert _names(client, read_headers, "?tags=vip") == ["A", "B"]


def test_unknown_query_parameters_are_ignored(client, read_headers, make_customer):
    make_customer(name="A")
    assert _names(client, read_headers, "?colour=blue") == ["A"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", ""])
def test_list_limit_out_of_range_is_422(client, read_headers, limit):
    error = assert_error(
        client.get(f"{URL}?limit={limit}", headers=read_headers), 422, "validation_error"
    )
    assert error["details"][0]["field"] == "limit"


def test_list_pages_with_cursor(client, read_headers, make_customer):
    made = [make_customer(name=f"C{i}")["id"] for i in range(5)]
    first = client.get(f"{URL}?limit=2", headers=read_headers).json
    assert first["meta"]["limit"] == 2 and first["meta"]["has_more"] is True
    seen = [c["id"] for c in first["data"]]
    cursor = first["meta"]["next_cursor"]
    while cursor:
        page = client.get(f"{URL}?limit=2&cursor={cursor}", headers=read_headers).json
        seen += [c["id"] for c in page["data"]]
        cursor = page["meta"]["next_cursor"]
        assert page["meta"]["has_more"] is (cursor is not None)
    assert seen == made


@pytest.mark.parametrize("cursor", ["abc", "eyJ4IjoxfQ.forged", ""])
def test_forged_cursor_is_422(client, read_headers, make_customer, cursor):
    make_customer()
    response = client.get(f"{URL}?cursor={cursor}", headers=read_headers)
    assert_error(response, 422, "validation_error")


def test_cursor_from_another_list_is_422(client, read_headers, make_resource):
    for _ in range(2):
        make_resource()
    cursor = client.get("/modules/booking/resources?limit=1", headers=read_headers).json["meta"][
        "next_cursor"
    ]
    assert_error(
        client.get(f"{URL}?cursor={cursor}", headers=read_headers), 422, "validation_error"
    )


def test_every_write_appends_one_change_row(client, db, admin_headers, make_customer):
    customer = make_customer()
    client.patch(f"{URL}/{customer['id']}", json={"phone": "1"}, headers=admin_headers)
    client.delete(f"{URL}/{customer['id']}", headers=admin_headers)
    rows = db.execute(
        "SELECT entity, entity_id, op, origin_seq FROM change_log ORDER BY seq"
    ).fetchall()
    assert rows == [
        ("customer", customer["id"], "upsert", 1),
        ("customer", customer["id"], "upsert", 2),
        ("customer", customer["id"], "delete", 3),
    ]
