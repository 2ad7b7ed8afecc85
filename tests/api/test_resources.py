"""Resources (API.md §2, availability aside): every field bound, filter and error path, via HTTP."""

import pytest

from app.core.times import parse_instant
from tests.conftest import assert_error, unchanged

URL = "/modules/booking/resources"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = {
    "mon": [["09:00", "17:00"]],
    "tue": [["09:00", "12:00"], ["13:00", "17:00"]],
    "sat": [["10:00", "14:00"]],
}


def _fields(error):
    return [detail["field"] for detail in error["details"]]


def test_create_returns_201_with_every_field(client, admin_headers):
    body = {
        "name": "Chair 1",
        "timezone": "Europe/Berlin",
        "default_duration_minutes": 45,
        "buffer_minutes": 15,
        "business_hours": WEEK,
        "metadata": {"floor": 2},
    }
    response = client.post(URL, json=body, headers=admin_headers)
    assert response.status_code == 201
    assert response.json["status"] == "ok"
    data = response.json["data"]
    assert data["id"].startswith("res_")
    assert {k: data[k] for k in body} == body
    assert data["created_at"].endswith("Z") and data["created_at"] == data["updated_at"]


def test_minimal_create_fills_defaults(client, write_headers):
    response = client.post(URL, json={"name": "Room A"}, headers=write_headers)
    assert response.status_code == 201
    data = response.json["data"]
    assert data["timezone"] == "UTC"
    assert data["default_duration_minutes"] == 60 and data["buffer_minutes"] == 0
    assert data["business_hours"] is None and data["metadata"] == {}
    assert set(data) == {
        "id",
        "name",
        "timezone",
        "default_duration_minutes",
        "buffer_minutes",
        "business_hours",
        "metadata",
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "x"},
        {"name": "x" * 256},
        {"timezone": "America/Argentina/Buenos_Aires"},
        {"timezone": "Etc/GMT-14"},
        {"default_duration_minutes": 1},
        {"default_duration_minutes": 1440},
        {"buffer_minutes": 0},
        {"buffer_minutes": 240},
        {"business_hours": {}},
        {"business_hours": {"sun": [["00:00", "24:00"]]}},
        {"business_hours": {"fri": [["23:59", "24:00"]]}},
        {"business_hours": {"wed": [["09:00", "12:00"], ["12:00", "13:00"]]}},
        {"business_hours": {day: [["08:00", "20:00"]] for day in DAYS}},
        {"metadata": {"blob": "x" * 16000}},
    ],
)
def test_bounds_at_their_limits_are_accepted(make_resource, overrides):
    resource = make_resource(**overrides)
    assert {k: resource[k] for k in overrides} == overrides


def test_spans_come_back_sorted_within_each_day(make_resource):
    resource = make_resource(
        business_hours={"mon": [["13:00", "24:00"], ["00:00", "08:00"], ["09:00", "12:00"]]}
    )
    assert resource["business_hours"] == {
        "mon": [["00:00", "08:00"], ["09:00", "12:00"], ["13:00", "24:00"]]
    }


@pytest.mark.parametrize(
    "body, field",
    [
        # name: required, 1..256, not blank, a string
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 257}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        # timezone: a string (names are checked below)
        ({"name": "A", "timezone": None}, "timezone"),
        ({"name": "A", "timezone": 1}, "timezone"),
        # default_duration_minutes: an integer 1..1440
        ({"name": "A", "default_duration_minutes": 0}, "default_duration_minutes"),
        ({"name": "A", "default_duration_minutes": 1441}, "default_duration_minutes"),
        ({"name": "A", "default_duration_minutes": -30}, "default_duration_minutes"),
        ({"name": "A", "default_duration_minutes": 1.5}, "default_duration_minutes"),
        ({"name": "A", "default_duration_minutes": "sixty"}, "default_duration_minutes"),
        ({"name": "A", "default_duration_minutes": "60"}, "default_duration_minutes"),
        ({"name": "A", "default_duration_minutes": True}, "default_duration_minutes"),
        ({"name": "A", "default_duration_minutes": None}, "default_duration_minutes"),
        # buffer_minutes: an integer 0..240
        ({"name": "A", "buffer_minutes": -1}, "buffer_minutes"),
        ({"name": "A", "buffer_minutes": 241}, "buffer_minutes"),
        ({"name": "A", "buffer_minutes": [5]}, "buffer_minutes"),
        ({"name": "A", "buffer_minutes": False}, "buffer_minutes"),
        # business_hours: day keys mon..sun, [["HH:MM", "HH:MM"]] with start < end, no overlap
        ({"name": "A", "business_hours": {"Mon": [["09:00", "17:00"]]}}, "business_hours"),
        ({"name": "A", "business_hours": {"monday": [["09:00", "17:00"]]}}, "business_hours"),
        ({"name": "A", "business_hours": {"hol": [["09:00", "17:00"]]}}, "business_hours"),
        ({"name": "A", "business_hours": {"mon": [["9:00", "17:00"]]}}, "business_hours.mon.0.0"),
        ({"name": "A", "business_hours": {"mon": [["09:00", "24:01"]]}}, "business_hours.mon.0.1"),
        ({"name": "A", "business_hours": {"mon": [["09:00", "25:00"]]}}, "business_hours.mon.0.1"),
        ({"name": "A", "business_hours": {"mon": [["09:60", "17:00"]]}}, "business_hours.mon.0.0"),
        ({"name": "A", "business_hours": {"mon": [["09:00", 17]]}}, "business_hours.mon.0.1"),
        ({"name": "A", "business_hours": {"mon": [["09:00"]]}}, "business_hours.mon.0"),
        ({"name": "A", "business_hours": {"mon": [["09", "12", "17"]]}}, "business_hours.mon.0"),
        ({"name": "A", "business_hours": {"mon": "09:00-17:00"}}, "business_hours.mon"),
        ({"name": "A", "business_hours": {"mon": [["10:00", "10:00"]]}}, "business_hours"),
        ({"name": "A", "business_hours": {"mon": [["17:00", "09:00"]]}}, "business_hours"),
        ({"name": "A", "business_hours": {"mon": [["24:00", "24:00"]]}}, "business_hours"),
        (
            {"name": "A", "business_hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "business_hours",
        ),
        (
            {"name": "A", "business_hours": {"mon": [["09:00", "17:00"], ["10:00", "11:00"]]}},
            "business_hours",
        ),
        ({"name": "A", "business_hours": [["09:00", "17:00"]]}, "business_hours"),
        ({"name": "A", "business_hours": "9-5"}, "business_hours"),
        # metadata: a JSON object of at most 16 KiB
        ({"name": "A", "metadata": []}, "metadata"),
        ({"name": "A", "metadata": "notes"}, "metadata"),
        ({"name": "A", "metadata": None}, "metadata"),
        ({"name": "A", "metadata": {"blob": "x" * 16400}}, "metadata"),
        # fields the contract does not list
        ({"name": "A", "colour": "red"}, "colour"),
        ({"name": "A", "business_hour": {}}, "business_hour"),
        ({"name": "A", "id": "res_mine"}, "id"),
    ],
)
def test_invalid_create_is_422_naming_the_field_and_changes_nothing(
    client, db, admin_headers, body, field
):
    with unchanged(db):
        response = client.post(URL, json=body, headers=admin_headers)
    assert field in _fields(assert_error(response, 422, "validation_error"))


@pytest.mark.parametrize(
    "timezone",
    [
        "Mars/Base",
        "",
        "Europe/Berlin/",
        "../../etc/passwd",
        "+01:00",
        "Europe/" + "x" * 60,
        # files in a system zoneinfo folder that are not IANA zone names
        "localtime",
        "posixrules",
    ],
)
def test_a_timezone_that_is_not_an_iana_name_is_422(client, db, admin_headers, timezone):
    with unchanged(db):
        response = client.post(URL, json={"name": "A", "timezone": timezone}, headers=admin_headers)
    assert _fields(assert_error(response, 422, "validation_error")) == ["timezone"]


def test_every_field_error_is_reported_at_once(client, db, admin_headers):
    body = {"name": "", "timezone": "Mars/Base", "buffer_minutes": 999, "bogus": 1}
    with unchanged(db):
        response = client.post(URL, json=body, headers=admin_headers)
    error = assert_error(response, 422, "validation_error")
    assert set(_fields(error)) == {"name", "timezone", "buffer_minutes", "bogus"}


def test_unknown_field_is_named_in_the_message(client, admin_headers):
    response = client.post(URL, json={"name": "A", "timezon": "UTC"}, headers=admin_headers)
    detail = assert_error(response, 422, "validation_error")["details"][0]
    assert detail == {"field": "timezon", "message": "Unknown field 'timezon'."}


def test_get_returns_the_resource(client, read_headers, make_resource):
    resource = make_resource(business_hours=WEEK, metadata={"floor": 1})
    response = client.get(f"{URL}/{resource['id']}", headers=read_headers)
    assert response.status_code == 200 and response.json["data"] == resource


@pytest.mark.parametrize("resource_id", ["res_nope", "cus_01J0000000000000000000000", "%20"])
def test_get_unknown_id_is_404(client, read_headers, resource_id):
    assert_error(client.get(f"{URL}/{resource_id}", headers=read_headers), 404, "not_found")


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Chair 2"},
        {"timezone": "Asia/Tokyo"},
        {"default_duration_minutes": 1440},
        {"buffer_minutes": 240},
        {"business_hours": {"sun": [["10:00", "12:00"]]}},
        {"business_hours": {}},
        {"metadata": {"colour": "red"}},
        {"metadata": {}},
    ],
)
def test_patch_changes_only_the_sent_field(client, write_headers, make_resource, change):
    resource = make_resource(
        timezone="Europe/Berlin", buffer_minutes=5, business_hours=WEEK, metadata={"a": 1}
    )
    response = client.patch(f"{URL}/{resource['id']}", json=change, headers=write_headers)
    assert response.status_code == 200
    data = response.json["data"]
    untouched = {k: v for k, v in resource.items() if k not in (*change, "updated_at")}
    assert data == {**untouched, **change, "updated_at": data["updated_at"]}
    # As text, "…:46.002Z" sorts before "…:46Z": compare instants.
    assert parse_instant(data["updated_at"]) >= parse_instant(resource["updated_at"])
    fetched = client.get(f"{URL}/{resource['id']}", headers=write_headers).json["data"]
    assert fetched == data


def test_patch_business_hours_null_makes_it_always_open(client, write_headers, make_resource):
    resource = make_resource(business_hours=WEEK)
    response = client.patch(
        f"{URL}/{resource['id']}", json={"business_hours": None}, headers=write_headers
    )
    assert response.status_code == 200 and response.json["data"]["business_hours"] is None
    fetched = client.get(f"{URL}/{resource['id']}", headers=write_headers).json["data"]
    assert fetched["business_hours"] is None


def test_patch_sorts_business_hours_spans(client, write_headers, make_resource):
    resource = make_resource()
    hours = {"fri": [["14:00", "18:00"], ["08:00", "12:00"]]}
    response = client.patch(
        f"{URL}/{resource['id']}", json={"business_hours": hours}, headers=write_headers
    )
    assert response.json["data"]["business_hours"] == {
        "fri": [["08:00", "12:00"], ["14:00", "18:00"]]
    }


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": None}, "name"),
        ({"timezone": None}, "timezone"),
        ({"default_duration_minutes": None}, "default_duration_minutes"),
        ({"buffer_minutes": None}, "buffer_minutes"),
        ({"metadata": None}, "metadata"),
        ({"name": "  "}, "name"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"default_duration_minutes": 0}, "default_duration_minutes"),
        ({"buffer_minutes": 241}, "buffer_minutes"),
        ({"business_hours": {"funday": [["09:00", "10:00"]]}}, "business_hours"),
        ({"business_hours": {"mon": [["10:00", "09:00"]]}}, "business_hours"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_patch_is_422_and_changes_nothing(
    client, db, write_headers, make_resource, body, field
):
    resource = make_resource(business_hours=WEEK)
    with unchanged(db):
        response = client.patch(f"{URL}/{resource['id']}", json=body, headers=write_headers)
    assert field in _fields(assert_error(response, 422, "validation_error"))


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "Chair 1"},
        {"timezone": "Europe/Berlin", "buffer_minutes": 5},
        {"business_hours": {"tue": [["13:00", "17:00"], ["09:00", "12:00"]]}},
        {"metadata": {"a": 1}},
    ],
)
def test_patch_with_no_real_change_writes_no_change_row(
    client, db, write_headers, make_resource, body
):
    resource = make_resource(
        timezone="Europe/Berlin",
        buffer_minutes=5,
        business_hours={"tue": [["09:00", "12:00"], ["13:00", "17:00"]]},
        metadata={"a": 1},
    )
    with unchanged(db):
        response = client.patch(f"{URL}/{resource['id']}", json=body, headers=write_headers)
    assert response.status_code == 200 and response.json["data"] == resource


def test_patch_null_business_hours_on_an_always_open_resource_writes_nothing(
    client, db, write_headers, make_resource
):
    resource = make_resource()
    with unchanged(db):
        response = client.patch(
            f"{URL}/{resource['id']}", json={"business_hours": None}, headers=write_headers
        )
    assert response.status_code == 200 and response.json["data"] == resource


def test_patch_unknown_id_is_404_after_validation(client, db, write_headers):
    with unchanged(db):
        assert_error(
            client.patch(f"{URL}/res_nope", json={"name": "X"}, headers=write_headers),
            404,
            "not_found",
        )
        # check order: body validation (422) comes before the lookup (404)
        assert_error(
            client.patch(f"{URL}/res_nope", json={"buffer_minutes": -1}, headers=write_headers),
            422,
            "validation_error",
        )


def test_delete_needs_admin_and_removes_for_good(
    client, db, read_headers, write_headers, admin_headers, make_resource
):
    resource = make_resource()
    with unchanged(db):
        for headers in (read_headers, write_headers):
            assert_error(
                client.delete(f"{URL}/{resource['id']}", headers=headers), 403, "forbidden"
            )
    response = client.delete(f"{URL}/{resource['id']}", headers=admin_headers)
    assert response.status_code == 200 and response.json["data"] == resource
    assert_error(client.get(f"{URL}/{resource['id']}", headers=admin_headers), 404, "not_found")
    with unchanged(db):
        assert_error(
            client.delete(f"{URL}/{resource['id']}", headers=admin_headers), 404, "not_found"
        )
    assert client.get(URL, headers=admin_headers).json["data"] == []


def _names(client, headers, query=""):
    response = client.get(f"{URL}{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [r["name"] for r in response.json["data"]]


def test_list_is_oldest_first_with_default_meta(client, read_headers, make_resource):
    for name in ("A", "B", "C"):
        make_resource(name=name)
    response = client.get(URL, headers=read_headers)
    assert [r["name"] for r in response.json["data"]] == ["A", "B", "C"]
    assert response.json["meta"] == {"limit": 25, "next_cursor": None, "has_more": False}


def test_list_of_nothing_is_an_empty_page(client, read_headers):
    body = client.get(URL, headers=read_headers).json
    assert body == {
        "status": "ok",
        "data": [],
        "meta": {"limit": 25, "next_cursor": None, "has_more": False},
    }


def test_list_q_is_a_case_insensitive_substring_of_the_name(client, read_headers, make_resource):
    for name in ("Chair 1", "Room A", "ARMCHAIR", "Stylist Chairs", "Desk"):
        make_resource(name=name, metadata={"note": "chair"})
    assert _names(client, read_headers, "?q=chair") == ["Chair 1", "ARMCHAIR", "Stylist Chairs"]
    assert _names(client, read_headers, "?q=CHAIR%201") == ["Chair 1"]
    assert _names(client, read_headers, "?q=sofa") == []


def test_list_q_treats_percent_and_underscore_literally(client, read_headers, make_resource):
    make_resource(name="Room_1")
    make_resource(name="Room 100%")
    make_resource(name="Room 1000")
    assert _names(client, read_headers, "?q=_") == ["Room_1"]
    assert _names(client, read_headers, "?q=0%25") == ["Room 100%"]


def test_unknown_query_parameters_are_ignored(client, read_headers, make_resource):
    make_resource(name="A")
    assert _names(client, read_headers, "?colour=blue") == ["A"]


@pytest.mark.parametrize("limit", ["1", "100"])
def test_list_limit_bounds_are_accepted(client, read_headers, make_resource, limit):
    make_resource()
    response = client.get(f"{URL}?limit={limit}", headers=read_headers)
    assert response.status_code == 200 and response.json["meta"]["limit"] == int(limit)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", "", "1e2"])
def test_list_limit_out_of_range_is_422(client, read_headers, limit):
    response = client.get(f"{URL}?limit={limit}", headers=read_headers)
    assert _fields(assert_error(response, 422, "validation_error")) == ["limit"]


def _walk(client, headers, limit, between_pages=lambda: None):
    first = client.get(f"{URL}?limit={limit}", headers=headers).json
    seen = [r["id"] for r in first["data"]]
    cursor = first["meta"]["next_cursor"]
    while cursor:
        between_pages()
        page = client.get(f"{URL}?limit={limit}&cursor={cursor}", headers=headers).json
        assert page["meta"]["limit"] == limit and len(page["data"]) <= limit
        seen += [r["id"] for r in page["data"]]
        cursor = page["meta"]["next_cursor"]
        assert page["meta"]["has_more"] is (cursor is not None)
    return seen


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 6])
def test_cursor_paging_walks_every_resource_exactly_once(
    client, read_headers, make_resource, limit
):
    made = [make_resource(name=f"R{i}")["id"] for i in range(5)]
    assert _walk(client, read_headers, limit) == made


def test_cursor_paging_sees_old_rows_once_while_rows_are_added(client, read_headers, make_resource):
    made = [make_resource(name=f"R{i}")["id"] for i in range(4)]
    added = []
    seen = _walk(
        client,
        read_headers,
        2,
        lambda: added.append(make_resource(name="late")["id"]) if not added else None,
    )
    assert seen == made + added


def test_cursor_keeps_the_q_filter(client, read_headers, make_resource):
    for i in range(4):
        make_resource(name=f"Chair {i}")
        make_resource(name=f"Room {i}")
    first = client.get(f"{URL}?q=chair&limit=3", headers=read_headers).json
    cursor = first["meta"]["next_cursor"]
    second = client.get(f"{URL}?q=chair&limit=3&cursor={cursor}", headers=read_headers).json
    names = [r["name"] for r in first["data"] + second["data"]]
    assert names == ["Chair 0", "Chair 1", "Chair 2", "Chair 3"]
    assert second["meta"]["has_more"] is False


@pytest.mark.parametrize("cursor", ["abc", "eyJ4IjoxfQ.forged", "", "InJlc18wMDAwIg"])
def test_forged_cursor_is_422_naming_cursor(client, read_headers, make_resource, cursor):
    make_resource()
    response = client.get(f"{URL}?cursor={cursor}", headers=read_headers)
    assert _fields(assert_error(response, 422, "validation_error")) == ["cursor"]


def test_tampered_cursor_is_422(client, read_headers, make_resource):
    for _ in range(3):
        make_resource()
    cursor = client.get(f"{URL}?limit=1", headers=read_headers).json["meta"]["next_cursor"]
    tampered = ("J" if cursor[0] != "J" else "K") + cursor[1:]
    response = client.get(f"{URL}?cursor={tampered}", headers=read_headers)
    assert_error(response, 422, "validation_error")


def test_cursor_from_the_customers_list_is_422(client, read_headers, make_customer):
    for _ in range(2):
        make_customer()
    cursor = client.get("/modules/booking/customers?limit=1", headers=read_headers).json["meta"][
        "next_cursor"
    ]
    response = client.get(f"{URL}?cursor={cursor}", headers=read_headers)
    assert_error(response, 422, "validation_error")


def test_every_write_appends_one_change_row(client, db, admin_headers, make_resource):
    resource = make_resource()
    client.patch(f"{URL}/{resource['id']}", json={"buffer_minutes": 10}, headers=admin_headers)
    client.delete(f"{URL}/{resource['id']}", headers=admin_headers)
    rows = db.execute(
        "SELECT entity, entity_id, op, origin_seq FROM change_log ORDER BY seq"
    ).fetchall()
    assert rows == [
        ("resource", resource["id"], "upsert", 1),
        ("resource", resource["id"], "upsert", 2),
        ("resource", resource["id"], "delete", 3),
    ]
