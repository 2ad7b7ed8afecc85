"""One customer, one id on both APIs (issue 15 §4): /v1 ids are valid RFC 9562 UUIDs, the
booking API takes them wherever it takes a customer id, and customers made before keep working."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from ulid import ULID

from app import store
from app.core import customer_ids
from app.core.times import wall_ms
from tests.conftest import assert_error, unchanged

BOOKING_API = "/modules/booking/customers"
V1 = "/v1/customers"


def _is_rfc_9562(text: str) -> uuid.UUID:
    value = uuid.UUID(text)
    assert str(value) == text and value.variant == uuid.RFC_4122 and value.version in (7, 8)
    return value


def _legacy_customer(db, ulid: ULID) -> str:
    """A customer whose id is a plain ULID, as every node made them before UUIDv7 ids (and as
    an older node still syncs them in)."""
    customer_id = f"cus_{ulid}"
    now = wall_ms()
    row = {"id": customer_id, "name": "Old", "tags": [], "metadata": {}, "created_at": now}
    with store.transaction(db):
        store.insert_customer(db, {**row, "updated_at": now, "external_id": None})
    return customer_id


def test_a_new_customers_v1_id_is_a_uuidv7_with_the_same_bits(client, make_customer, read_headers):
    customer = make_customer()
    shown = client.get(f"{V1}/{customer['id']}", headers=read_headers).json["data"]["id"]
    assert _is_rfc_9562(shown).version == 7
    assert ULID.from_str(customer["id"].removeprefix("cus_")).to_uuid() == uuid.UUID(shown)


def test_v1_creates_make_uuidv7_ids_in_creation_order(client, write_headers):
    ids = [
        client.post(V1, json={"name": f"C{n}"}, headers=write_headers).json["data"]["id"]
        for n in range(20)
    ]
    assert all(_is_rfc_9562(value).version == 7 for value in ids)
    assert ids == sorted(ids)


def test_the_booking_api_takes_the_v1_id_in_its_paths(client, db, write_headers, admin_headers):
    created = client.post(V1, json={"name": "Ada"}, headers=write_headers).json["data"]
    native = client.get(f"{BOOKING_API}/{created['id']}", headers=write_headers)
    assert native.status_code == 200 and native.json["data"]["id"].startswith("cus_")
    patched = client.patch(
        f"{BOOKING_API}/{created['id'].upper()}", json={"phone": "123"}, headers=write_headers
    )
    assert patched.json["data"]["phone"] == "123"
    deleted = client.delete(f"{BOOKING_API}/{created['id']}", headers=admin_headers)
    assert deleted.status_code == 200
    assert_error(client.get(f"{V1}/{created['id']}", headers=write_headers), 404, "not_found")


def test_a_booking_names_its_customer_by_the_v1_id(client, make_resource, write_headers):
    created = client.post(V1, json={"name": "Ada"}, headers=write_headers).json["data"]
    native_id = client.get(f"{BOOKING_API}/{created['id']}", headers=write_headers).json["data"]
    body = {
        "resource_id": make_resource()["id"],
        "customer_id": created["id"],
        "start_time": "2030-01-07T10:00:00Z",
    }
    booking = client.post("/modules/booking/bookings", json=body, headers=write_headers).json
    assert booking["data"]["customer_id"] == native_id["id"]  # stored in one form
    for form in (created["id"], native_id["id"]):
        listed = client.get(
            "/modules/booking/bookings", query_string={"customer_id": form}, headers=write_headers
        ).json["data"]
        assert [row["id"] for row in listed] == [booking["data"]["id"]]


def test_an_unknown_v1_id_is_404_on_paths_and_unknown_customer_on_a_booking(
    client, db, make_resource, write_headers
):
    nobody = "0190f3a4-5b6c-7d8e-9f01-23456789abcd"
    assert_error(client.get(f"{BOOKING_API}/{nobody}", headers=write_headers), 404, "not_found")
    body = {
        "resource_id": make_resource()["id"],
        "customer_id": nobody,
        "start_time": "2030-01-07T10:00:00Z",
    }
    with unchanged(db):
        response = client.post("/modules/booking/bookings", json=body, headers=write_headers)
    assert_error(response, 422, "unknown_customer")
    listed = client.get(
        "/modules/booking/bookings", query_string={"customer_id": nobody}, headers=write_headers
    )
    assert listed.status_code == 200 and listed.json["data"] == []


def test_a_customer_made_before_uuidv7_ids_shows_a_valid_uuid_and_keeps_its_old_one(
    client, db, read_headers
):
    # A ULID whose bits are not a valid UUID (version nibble 0), as 7 in 8 legacy ids were.
    legacy = ULID.from_int(int(ULID()) & ~(0xF << 76))
    customer_id = _legacy_customer(db, legacy)
    shown = client.get(f"{V1}/{customer_id}", headers=read_headers).json["data"]["id"]
    assert _is_rfc_9562(shown).version == 8
    old_form = str(legacy.to_uuid())  # what /v1 showed for it before this version
    for form in (shown, old_form, customer_id):
        for base in (V1, BOOKING_API):
            response = client.get(f"{base}/{form}", headers=read_headers)
            assert response.status_code == 200, (base, form)
        assert client.get(f"{BOOKING_API}/{form}", headers=read_headers).json["data"]["id"] == (
            customer_id
        )
    listed = client.get(V1, headers=read_headers).json["data"]
    assert [row["id"] for row in listed] == [shown]


@given(st.integers(min_value=0, max_value=(1 << 122) - 1))
def test_every_older_id_maps_to_a_valid_uuid_and_back_the_same_on_every_replica(bits):
    """A pure function of the stored id: no table, so every replica shows the same /v1 id."""
    customer_id = f"cus_{ULID.from_int(bits)}"
    shown = customer_ids.to_uuid(customer_id)
    _is_rfc_9562(shown)
    assert customer_ids.candidates(shown)[0] == customer_id
    assert customer_ids.to_uuid(customer_id) == shown
    assert customer_id in customer_ids.candidates(str(ULID.from_int(bits).to_uuid()))


@given(st.lists(st.integers(min_value=0, max_value=(1 << 122) - 1), min_size=2, max_size=20))
def test_older_ids_keep_their_order_as_v1_ids(values):
    ids = sorted(f"cus_{ULID.from_int(bits)}" for bits in values)
    shown = [customer_ids.to_uuid(customer_id) for customer_id in ids]
    eight = [uuid.UUID(value) for value in shown if uuid.UUID(value).version == 8]
    assert eight == sorted(eight)
