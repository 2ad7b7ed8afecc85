"""ShingleAI-compatible customers (API.md §6): the seed's shapes, one store, soft delete, errors."""

import json
import re

import pytest
from sqlite_utils import Database

from app import create_app, store
from app.core.customer_ids import candidates
from app.core.ids import new_id
from app.web.auth import create_key
from app.web.schemas import Customer, ShingleCustomer
from migrations.migrations import migrations
from tests.conftest import assert_error, unchanged

URL = "/v1/customers"
BOOKING_URL = "/modules/booking/customers"


def native_id(public_id: str) -> str:
    """The `cus_` id of a customer made by this version from its /v1 UUID."""
    return candidates(public_id)[0]


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")

# The request body of the seed's curl example (shingleai-customers.txt), byte for byte.
SEED_BODY = """
{
"businessId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"type": "<string>",
"contactId": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"name": "<string>",
"email": "<string>",
"phone": "<string>",
"notes": "<string>",
"status": "<string>",
"customerSince": "2023-11-07T05:31:56Z",
"data": {}
}
"""
# Every output field of the seed's response, with the kind of value it shows.
SEED_OUTPUT = {
    "id": "uuid",
    "createdAt": "time",
    "updatedAt": "time",
    "deletedAt": "time",
    "organizationId": "uuid",
    "businessId": "uuid",
    "contactId": "uuid",
    "type": "string",
    "name": "string",
    "email": "string",
    "phone": "string",
    "notes": "string",
    "status": "string",
    "customerSince": "time",
    "data": "object",
}
FULL = {
    "businessId": "11111111-2222-4333-8444-555555555555",
    "type": "person",
    "contactId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0000",
    "notes": "Prefers mornings.",
    "status": "active",
    "customerSince": "2023-11-07T05:31:56Z",
    "data": {"colour": "teal", "visits": 3},
}
SHINGLEAI_COLUMNS = {
    "business_id",
    "contact_id",
    "type",
    "notes",
    "status",
    "customer_since",
    "deleted_at",
    "organization_id",
}


@pytest.fixture
def make_v1_customer(client, admin_headers):
    """Factory: a customer made through POST /v1/customers, with keyword overrides."""

    def make(**overrides):
        response = client.post(URL, json={"name": "Ada", **overrides}, headers=admin_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


def _changes(db):
    rows = db.execute("SELECT entity, entity_id, op, payload FROM change_log ORDER BY seq")
    return [(entity, entity_id, op, json.loads(payload)) for entity, entity_id, op, payload in rows]


# --- the seed's example ---------------------------------------------------------------------------


def test_the_seeds_example_request_returns_every_documented_field(client, write_headers):
    response = client.post(
        URL, data=SEED_BODY, headers={**write_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.json
    assert set(response.json) == {"data"}  # ShingleAI's envelope: no "status"
    data = response.json["data"]
    assert list(data) == list(SEED_OUTPUT)  # every field, in the seed's order
    for field, kind in SEED_OUTPUT.items():
        value = data[field]
        if field == "deletedAt":
            assert value is None  # not deleted yet; a time once it is
        elif kind == "uuid":
            assert UUID.match(value), (field, value)
        elif kind == "time":
            assert INSTANT.match(value), (field, value)
        elif kind == "object":
            assert isinstance(value, dict), field
        else:
            assert isinstance(value, str), field
    sent = json.loads(SEED_BODY)
    assert {k: data[k] for k in sent} == sent
    ShingleCustomer.model_validate(data)


def test_create_stamps_the_databases_organization_id(client, db, make_v1_customer):
    first, second = make_v1_customer(), make_v1_customer(name="Bo")
    organization = db.execute("SELECT value FROM node_meta WHERE key = 'organization_id'")
    assert first["organizationId"] == second["organizationId"] == organization.fetchone()[0]


# --- every field round-trips ----------------------------------------------------------------------


def test_every_field_round_trips_through_create_and_get(client, read_headers, make_v1_customer):
    created = make_v1_customer(**FULL)
    assert {k: created[k] for k in FULL} == FULL
    assert created["createdAt"] == created["updatedAt"] and created["deletedAt"] is None
    fetched = client.get(f"{URL}/{created['id']}", headers=read_headers)
    assert fetched.status_code == 200 and fetched.json == {"data": created}


def test_minimal_create_leaves_the_optional_fields_null(make_v1_customer):
    data = make_v1_customer(name="Bo")
    nulls = ("businessId", "contactId", "type", "email", "phone", "notes", "status")
    assert all(data[field] is None for field in (*nulls, "customerSince", "deletedAt"))
    assert data["data"] == {}


def test_uuids_are_stored_lower_case_and_times_canonical(make_v1_customer):
    data = make_v1_customer(
        businessId="3C90C3CC-0D44-4B50-8888-8DD25736052A", customerSince="2024-02-29T10:00Z"
    )
    assert data["businessId"] == "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    assert data["customerSince"] == "2024-02-29T10:00:00Z"


def test_explicit_nulls_are_accepted_on_create(make_v1_customer):
    nullable = ("businessId", "contactId", "type", "email", "phone", "notes", "status")
    data = make_v1_customer(**dict.fromkeys((*nullable, "customerSince")))
    assert all(data[field] is None for field in nullable)


@pytest.mark.parametrize("field", [f for f in FULL if f != "name"])
def test_patch_sets_each_field_alone(client, write_headers, make_v1_customer, field):
    customer = make_v1_customer()
    response = client.patch(
        f"{URL}/{customer['id']}", json={field: FULL[field]}, headers=write_headers
    )
    data = response.json["data"]
    assert response.status_code == 200 and data[field] == FULL[field]
    untouched = {k: v for k, v in data.items() if k not in (field, "updatedAt")}
    assert untouched == {k: v for k, v in customer.items() if k not in (field, "updatedAt")}
    assert data["updatedAt"] >= customer["updatedAt"]


def test_patch_null_clears_the_nullable_fields(client, read_headers, write_headers):
    created = client.post(URL, json=FULL, headers=write_headers).json["data"]
    cleared = ("businessId", "contactId", "type", "email", "phone", "notes", "status")
    body = dict.fromkeys((*cleared, "customerSince"))
    response = client.patch(f"{URL}/{created['id']}", json=body, headers=write_headers)
    assert response.status_code == 200
    fetched = client.get(f"{URL}/{created['id']}", headers=read_headers).json["data"]
    assert fetched == response.json["data"]
    assert all(fetched[field] is None for field in body)
    assert fetched["name"] == FULL["name"] and fetched["data"] == FULL["data"]


# --- one store: both APIs see the same customers --------------------------------------------------


def test_a_v1_customer_appears_in_the_booking_api(client, read_headers, make_v1_customer):
    created = make_v1_customer(**FULL)
    listed = client.get(BOOKING_URL, headers=read_headers).json["data"]
    assert len(listed) == 1
    booking = listed[0]
    assert booking["id"] == native_id(created["id"]) and booking["id"].startswith("cus_")
    assert booking["name"] == FULL["name"] and booking["email"] == FULL["email"]
    assert booking["phone"] == FULL["phone"] and booking["metadata"] == FULL["data"]
    assert booking["created_at"] == created["createdAt"]
    Customer.model_validate(booking)  # the booking shape is unchanged: no ShingleAI fields
    fetched = client.get(f"{BOOKING_URL}/{booking['id']}", headers=read_headers)
    assert fetched.json["data"] == booking


def test_a_booking_customer_appears_in_v1(client, read_headers, make_customer):
    booking = make_customer(
        name="Grace", email="grace@example.com", phone="555", metadata={"navy": True}
    )
    listed = client.get(URL, headers=read_headers).json
    assert listed["meta"]["pagination"]["total"] == 1
    data = listed["data"][0]
    assert native_id(data["id"]) == booking["id"]
    assert (data["name"], data["email"], data["phone"]) == ("Grace", "grace@example.com", "555")
    assert data["data"] == {"navy": True} and data["createdAt"] == booking["created_at"]
    assert UUID.match(data["organizationId"]) and data["deletedAt"] is None
    assert client.get(f"{URL}/{data['id']}", headers=read_headers).json == {"data": data}


def test_v1_path_accepts_the_uuid_or_the_cus_id(client, read_headers, make_customer):
    booking = make_customer()
    by_cus = client.get(f"{URL}/{booking['id']}", headers=read_headers)
    assert by_cus.status_code == 200
    uuid = by_cus.json["data"]["id"]
    assert client.get(f"{URL}/{uuid.upper()}", headers=read_headers).json == by_cus.json


def test_edits_on_either_api_show_on_the_other(client, read_headers, write_headers, make_customer):
    booking = make_customer(name="Before")
    uuid = client.get(f"{URL}/{booking['id']}", headers=read_headers).json["data"]["id"]
    client.patch(f"{URL}/{uuid}", json={"name": "Via v1", "data": {"a": 1}}, headers=write_headers)
    seen = client.get(f"{BOOKING_URL}/{booking['id']}", headers=read_headers).json["data"]
    assert seen["name"] == "Via v1" and seen["metadata"] == {"a": 1}
    client.patch(
        f"{BOOKING_URL}/{booking['id']}", json={"email": "b@example.com"}, headers=write_headers
    )
    seen = client.get(f"{URL}/{uuid}", headers=read_headers).json["data"]
    assert seen["email"] == "b@example.com" and seen["name"] == "Via v1"


# --- list: offset pagination ----------------------------------------------------------------------


def test_offset_pagination_over_60_customers(client, read_headers, make_v1_customer):
    made = [make_v1_customer(name=f"C{i:02}")["id"] for i in range(60)]
    seen, offset = [], 0
    while True:
        page = client.get(f"{URL}?limit=25&offset={offset}", headers=read_headers)
        assert page.status_code == 200 and set(page.json) == {"data", "meta"}
        pagination = page.json["meta"]["pagination"]
        seen += [c["id"] for c in page.json["data"]]
        assert pagination == {
            "limit": 25,
            "offset": offset,
            "hasMore": offset + 25 < 60,
            "total": 60,
        }
        if not pagination["hasMore"]:
            break
        offset += 25
    assert seen == made  # oldest first, each exactly once
    assert len(page.json["data"]) == 10


def test_list_defaults_to_20_from_offset_0(client, read_headers, make_v1_customer):
    for i in range(21):
        make_v1_customer(name=f"C{i}")
    body = client.get(URL, headers=read_headers).json
    assert len(body["data"]) == 20
    assert body["meta"] == {"pagination": {"limit": 20, "offset": 0, "hasMore": True, "total": 21}}
    for item in body["data"]:
        ShingleCustomer.model_validate(item)


def test_an_offset_past_the_end_is_an_empty_page(client, read_headers, make_v1_customer):
    make_v1_customer()
    body = client.get(f"{URL}?offset=5", headers=read_headers).json
    assert body["data"] == []
    assert body["meta"]["pagination"] == {"limit": 20, "offset": 5, "hasMore": False, "total": 1}


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=2.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("offset=1000000001", "offset"),
    ],
)
def test_list_bounds_are_422_naming_the_parameter(client, read_headers, query, field):
    error = assert_error(
        client.get(f"{URL}?{query}", headers=read_headers), 422, "validation_error"
    )
    assert [d["field"] for d in error["details"]] == [field]


def test_list_bounds_at_their_limits_are_accepted(client, read_headers):
    for query in ("limit=1", "limit=100", "offset=0", "offset=1000000000"):
        assert client.get(f"{URL}?{query}", headers=read_headers).status_code == 200


# --- soft delete ----------------------------------------------------------------------------------


def test_soft_delete_is_seen_from_both_apis(
    client, read_headers, write_headers, admin_headers, make_v1_customer
):
    kept, gone = make_v1_customer(name="Kept"), make_v1_customer(name="Gone")
    response = client.delete(f"{URL}/{gone['id']}", headers=admin_headers)
    assert response.status_code == 200
    deleted = response.json["data"]
    assert INSTANT.match(deleted["deletedAt"]) and deleted["updatedAt"] == deleted["deletedAt"]

    v1_list = client.get(URL, headers=read_headers).json
    assert [c["id"] for c in v1_list["data"]] == [kept["id"]]
    assert v1_list["meta"]["pagination"]["total"] == 1
    booking_list = client.get(BOOKING_URL, headers=read_headers).json["data"]
    assert [c["id"] for c in booking_list] == [native_id(kept["id"])]
    assert client.get(f"{BOOKING_URL}?q=Gone", headers=read_headers).json["data"] == []

    # Still readable by id on both APIs, with deletedAt on /v1.
    assert client.get(f"{URL}/{gone['id']}", headers=read_headers).json == {"data": deleted}
    by_booking = client.get(f"{BOOKING_URL}/{native_id(gone['id'])}", headers=read_headers)
    assert by_booking.status_code == 200 and by_booking.json["data"]["name"] == "Gone"


def test_a_deleted_customer_cannot_be_patched_or_deleted_again(
    client, db, write_headers, admin_headers, make_v1_customer
):
    customer = make_v1_customer()
    client.delete(f"{URL}/{customer['id']}", headers=admin_headers)
    with unchanged(db):
        patch = client.patch(f"{URL}/{customer['id']}", json={"name": "X"}, headers=write_headers)
        assert_error(patch, 404, "not_found")
        assert_error(
            client.delete(f"{URL}/{customer['id']}", headers=admin_headers), 404, "not_found"
        )


def test_delete_needs_admin(client, db, write_headers, make_v1_customer):
    customer = make_v1_customer()
    with unchanged(db):
        response = client.delete(f"{URL}/{customer['id']}", headers=write_headers)
    assert_error(response, 403, "forbidden")


# --- the change log: ShingleAI fields sync like every customer field ------------------------------


def test_create_appends_one_upsert_carrying_the_shingleai_columns(client, db, make_v1_customer):
    created = make_v1_customer(**FULL)
    [(entity, entity_id, op, payload)] = _changes(db)
    assert (entity, entity_id, op) == ("customer", native_id(created["id"]), "upsert")
    assert SHINGLEAI_COLUMNS <= set(payload)
    assert payload["business_id"] == FULL["businessId"] and payload["type"] == "person"
    assert payload["metadata"] == FULL["data"] and payload["deleted_at"] is None
    assert payload["organization_id"] == created["organizationId"]
    assert isinstance(payload["customer_since"], int)  # milliseconds, like every stored time


def test_patch_change_carries_only_the_changed_columns(client, db, write_headers, make_v1_customer):
    customer = make_v1_customer(**FULL)
    body = {"notes": "New notes", "status": FULL["status"], "businessId": None}
    client.patch(f"{URL}/{customer['id']}", json=body, headers=write_headers)
    [*_, (_, _, op, payload)] = _changes(db)
    assert op == "upsert" and set(payload) == {"notes", "business_id", "updated_at"}
    assert payload["notes"] == "New notes" and payload["business_id"] is None


def test_patch_with_no_real_change_writes_nothing(client, db, write_headers, make_v1_customer):
    customer = make_v1_customer(**FULL)
    with unchanged(db):
        response = client.patch(
            f"{URL}/{customer['id']}", json={"type": "person"}, headers=write_headers
        )
    assert response.status_code == 200 and response.json["data"] == customer


def test_soft_delete_is_an_upsert_of_deleted_at_not_a_tombstone(
    client, db, admin_headers, make_v1_customer
):
    customer = make_v1_customer()
    client.delete(f"{URL}/{customer['id']}", headers=admin_headers)
    [*_, (_, entity_id, op, payload)] = _changes(db)
    assert (entity_id, op) == (native_id(customer["id"]), "upsert")
    assert set(payload) == {"deleted_at", "updated_at"}


# --- the rest of the API's rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", URL),
        ("post", URL),
        ("get", f"{URL}/x"),
        ("patch", f"{URL}/x"),
        ("delete", f"{URL}/x"),
    ],
)
def test_every_route_needs_a_key(client, method, path):
    response = getattr(client, method)(path, json={})
    assert_error(response, 401, "unauthorized")


def test_writes_need_the_write_scope(client, db, read_headers, make_v1_customer):
    customer = make_v1_customer()
    with unchanged(db):
        assert_error(client.post(URL, json={"name": "A"}, headers=read_headers), 403, "forbidden")
        response = client.patch(f"{URL}/{customer['id']}", json={"name": "B"}, headers=read_headers)
        assert_error(response, 403, "forbidden")


def test_tokens_and_rate_limit_headers_apply(client, db, make_key):
    headers = make_key("booking:write", tokens=1)
    response = client.post(URL, json={"name": "A"}, headers=headers)
    assert response.status_code == 201
    assert response.headers["X-Tokens-Remaining"] == "0"
    assert response.headers["X-RateLimit-Limit"]
    with unchanged(db):
        assert_error(
            client.post(URL, json={"name": "B"}, headers=headers), 402, "insufficient_tokens"
        )


def test_idempotency_key_replays_a_create(client, db, write_headers):
    headers = {**write_headers, "Idempotency-Key": "create-ada"}
    first = client.post(URL, json={"name": "Ada"}, headers=headers)
    again = client.post(URL, json={"name": "Ada"}, headers=headers)
    assert again.status_code == 201 and again.json == first.json
    assert client.get(URL, headers=write_headers).json["meta"]["pagination"]["total"] == 1


def test_a_body_that_is_not_a_json_object_is_400(client, db, write_headers):
    with unchanged(db):
        response = client.post(
            URL, data="[1]", headers={**write_headers, "Content-Type": "application/json"}
        )
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 257}, "name"),
        ({"name": None}, "name"),
        ({"name": "A", "businessId": "not-a-uuid"}, "businessId"),
        ({"name": "A", "businessId": "3c90c3cc0d444b5088888dd25736052a"}, "businessId"),
        ({"name": "A", "businessId": "{3c90c3cc-0d44-4b50-8888-8dd25736052a}"}, "businessId"),
        ({"name": "A", "businessId": "3c90c3cc-0d44-4b50-8888-8dd25736052a\n"}, "businessId"),
        ({"name": "A", "businessId": 5}, "businessId"),
        ({"name": "A", "contactId": "3c90c3cc-0d44-4b50-8888-8dd25736052"}, "contactId"),
        ({"name": "A", "contactId": "zc90c3cc-0d44-4b50-8888-8dd25736052a"}, "contactId"),
        ({"name": "A", "customerSince": "2023-11-07"}, "customerSince"),
        ({"name": "A", "customerSince": "2023-11-07 05:31:56Z"}, "customerSince"),
        ({"name": "A", "customerSince": "2023-11-07T05:31:56+01:00"}, "customerSince"),
        ({"name": "A", "customerSince": "2025-02-29T10:00:00Z"}, "customerSince"),
        ({"name": "A", "customerSince": "2023-11-07T05:31:56Z\n"}, "customerSince"),
        ({"name": "A", "customerSince": 1699335116}, "customerSince"),
        ({"name": "A", "type": "t" * 65}, "type"),
        ({"name": "A", "status": "s" * 65}, "status"),
        ({"name": "A", "phone": "1" * 65}, "phone"),
        ({"name": "A", "notes": "n" * 2001}, "notes"),
        ({"name": "A", "email": "e" * 321}, "email"),
        ({"name": "A", "data": []}, "data"),
        ({"name": "A", "data": None}, "data"),
        ({"name": "A", "data": {"blob": "x" * 16400}}, "data"),
        ({"name": "A", "metadata": {}}, "metadata"),
        ({"name": "A", "business_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}, "business_id"),
        ({"name": "A", "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}, "id"),
        ({"name": "A", "organizationId": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}, "organizationId"),
    ],
)
def test_invalid_create_is_422_naming_the_field_and_changes_nothing(
    client, db, write_headers, body, field
):
    with unchanged(db):
        response = client.post(URL, json=body, headers=write_headers)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


def test_malformed_uuid_message_shows_the_form(client, write_headers):
    response = client.post(URL, json={"name": "A", "contactId": "nope"}, headers=write_headers)
    detail = assert_error(response, 422, "validation_error")["details"][0]
    assert (
        detail["field"] == "contactId"
        and "3c90c3cc-0d44-4b50-8888-8dd25736052a" in detail["message"]
    )


def test_every_field_error_is_reported_at_once(client, write_headers):
    body = {"name": "", "businessId": "x", "customerSince": "yesterday", "colour": "red"}
    response = client.post(URL, json=body, headers=write_headers)
    fields = {d["field"] for d in assert_error(response, 422, "validation_error")["details"]}
    assert fields == {"name", "businessId", "customerSince", "colour"}


def test_bounds_at_their_limits_are_accepted(make_v1_customer):
    data = make_v1_customer(
        name="x" * 256, type="t" * 64, status="s" * 64, phone="1" * 64, notes="n" * 2000
    )
    assert len(data["notes"]) == 2000


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"data": None}, "data"),
        ({"businessId": "nope"}, "businessId"),
        ({"contactId": "nope"}, "contactId"),
        ({"customerSince": "2023-11-07T25:00:00Z"}, "customerSince"),
        ({"nmae": "typo"}, "nmae"),
    ],
)
def test_invalid_patch_is_422_and_changes_nothing(
    client, db, write_headers, make_v1_customer, body, field
):
    customer = make_v1_customer()
    with unchanged(db):
        response = client.patch(f"{URL}/{customer['id']}", json=body, headers=write_headers)
    error = assert_error(response, 422, "validation_error")
    assert [d["field"] for d in error["details"]] == [field]


@pytest.mark.parametrize(
    "customer_id",
    [
        "3c90c3cc-0d44-4b50-8888-8dd25736052a",  # a well-formed UUID nobody has
        "cus_01J0000000000000000000000",
        "nope",
        "3c90c3cc0d444b5088888dd25736052a",
    ],
)
def test_unknown_ids_are_404_on_every_route(
    client, db, read_headers, admin_headers, make_v1_customer, customer_id
):
    make_v1_customer()
    with unchanged(db):
        for response in (
            client.get(f"{URL}/{customer_id}", headers=read_headers),
            client.patch(f"{URL}/{customer_id}", json={"name": "X"}, headers=admin_headers),
            client.delete(f"{URL}/{customer_id}", headers=admin_headers),
        ):
            assert customer_id in assert_error(response, 404, "not_found")["message"]


def test_body_validation_comes_before_the_404(client, db, write_headers):
    with unchanged(db):
        response = client.patch(f"{URL}/nope", json={"name": ""}, headers=write_headers)
    assert_error(response, 422, "validation_error")


def test_openapi_documents_the_v1_routes_with_shingleais_envelope(client):
    document = client.get("/openapi.json").json
    paths = document["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[URL + "/{customer_id}"]) == {"get", "patch", "delete"}
    created = paths[URL]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["required"] == ["data"] and "status" not in created["properties"]
    listed = paths[URL]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    pagination = listed["properties"]["meta"]["properties"]["pagination"]
    assert set(pagination["required"]) == {"limit", "offset", "hasMore", "total"}
    assert {p["name"] for p in paths[URL]["get"]["parameters"]} == {"limit", "offset"}
    assert paths[URL + "/{customer_id}"]["delete"]["security"] == [{"bearer": ["booking:admin"]}]
    body = document["components"]["schemas"]["ShingleCustomerCreate"]
    assert list(body["properties"]) == list(json.loads(SEED_BODY))
    assert body["required"] == ["name"] and body["additionalProperties"] is False
    output = document["components"]["schemas"]["ShingleCustomer"]
    assert list(output["properties"]) == list(SEED_OUTPUT)
    # The booking API's documents keep their own envelope.
    booking = paths[BOOKING_URL]["post"]["responses"]["201"]["content"]["application/json"]
    assert booking["schema"]["properties"]["status"] == {"const": "ok"}


def test_customers_from_before_the_migration_show_in_v1(tmp_path):
    path = str(tmp_path / "old.db")
    old = Database(path)  # a database as the migrations before m0003 left it
    migrations.apply(old, stop_before="m0003_shingleai_customer_fields")
    old.execute(
        "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, 'Old', 0, 0)",
        [new_id("cus")],
    )
    old.commit()
    old.close()
    app = create_app({"TESTING": True, "DB": path})  # migrates, as `booking serve` does
    database = store.open_db(path)
    _, key = create_key(database, name="t", scopes=["booking:read"], rate_limit="9/minute")
    database.close()
    try:
        body = app.test_client().get(URL, headers={"Authorization": f"Bearer {key}"}).json
    finally:
        store.close_thread_connections()
    [data] = body["data"]
    assert data["name"] == "Old" and data["deletedAt"] is None and data["businessId"] is None
    assert UUID.match(data["organizationId"])  # the database's, though the row has none
