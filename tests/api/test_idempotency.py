"""Idempotency-Key on POST (API.md §1): a retry replays the first response, the work done once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import store
from app.web import idempotency
from tests.conftest import assert_error, unchanged

BOOKINGS = "/modules/booking/bookings"
CUSTOMERS = "/modules/booking/customers"
START = "2030-01-07T10:00:00Z"
DAY_MS = 24 * 3600 * 1000


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def count(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def changes(db) -> int:
    return count(db, "change_log")


@pytest.fixture
def resource(make_resource):
    return make_resource()


def test_a_retry_with_the_same_key_and_body_replays_the_first_response(
    client, db, admin_headers, resource
):
    body = {"resource_id": resource["id"], "start_time": START, "title": "Cut"}
    headers = keyed(admin_headers, "retry-1")
    before = changes(db)
    first = client.post(BOOKINGS, json=body, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    with unchanged(db):
        second = client.post(BOOKINGS, json=body, headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_data() == first.get_data()
    assert count(db, "bookings") == 1 and count(db, "booking_events") == 1
    assert changes(db) == before + 1


def test_the_same_json_with_other_key_order_and_spacing_is_the_same_body(
    client, db, admin_headers, resource
):
    headers = keyed(admin_headers, "order-1")
    compact = json.dumps({"resource_id": resource["id"], "start_time": START, "title": "T"})
    spaced = json.dumps(
        {"title": "T", "start_time": START, "resource_id": resource["id"]}, indent=4
    )
    first = client.post(BOOKINGS, data=compact, content_type="application/json", headers=headers)
    with unchanged(db):
        second = client.post(
            BOOKINGS, data=spaced, content_type="application/json", headers=headers
        )
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_data() == first.get_data()


def test_the_same_key_with_a_different_body_is_a_mismatch_and_changes_nothing(
    client, db, admin_headers, resource
):
    headers = keyed(admin_headers, "mismatch-1")
    body = {"resource_id": resource["id"], "start_time": START}
    assert client.post(BOOKINGS, json=body, headers=headers).status_code == 201
    with unchanged(db):
        response = client.post(
            BOOKINGS, json={**body, "start_time": "2030-01-07T12:00:00Z"}, headers=headers
        )
    assert_error(response, 422, "idempotency_mismatch")
    assert "Idempotent-Replayed" not in response.headers


def test_the_same_key_on_another_route_is_a_mismatch(client, db, admin_headers, resource):
    headers = keyed(admin_headers, "route-1")
    body = {"resource_id": resource["id"], "start_time": START}
    assert client.post(BOOKINGS, json=body, headers=headers).status_code == 201
    with unchanged(db):
        response = client.post(CUSTOMERS, json={"name": "Ada"}, headers=headers)
    assert_error(response, 422, "idempotency_mismatch")


def test_keys_are_per_api_key_so_another_key_does_the_work_anew(client, db, make_key):
    one, other = make_key("booking:write"), make_key("booking:write")
    first = client.post(CUSTOMERS, json={"name": "Ada"}, headers=keyed(one, "shared"))
    second = client.post(CUSTOMERS, json={"name": "Ada"}, headers=keyed(other, "shared"))
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    assert first.json["data"]["id"] != second.json["data"]["id"]
    assert count(db, "customers") == 2
    # nor is a different body under another key a mismatch
    third_key = keyed(make_key("booking:write"), "shared")
    third = client.post(CUSTOMERS, json={"name": "Grace"}, headers=third_key)
    assert third.status_code == 201 and third.json["data"]["name"] == "Grace"


def test_a_first_slot_conflict_is_replayed_as_the_same_422(
    client, db, admin_headers, make_resource
):
    resource = make_resource()
    body = {"resource_id": resource["id"], "start_time": START}
    taken = client.post(BOOKINGS, json=body, headers=admin_headers).json["data"]
    headers = keyed(admin_headers, "conflict-1")
    first = client.post(BOOKINGS, json=body, headers=headers)
    assert taken["id"] in assert_error(first, 422, "slot_conflict")["details"][0]["message"]
    # Even once the slot is free again, the retry replays the answer it first got.
    cancel = {"status": "cancelled"}
    client.post(f"{BOOKINGS}/{taken['id']}/transition", json=cancel, headers=admin_headers)
    with unchanged(db):
        second = client.post(BOOKINGS, json=body, headers=headers)
    assert_error(second, 422, "slot_conflict")
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_data() == first.get_data()


@pytest.mark.parametrize("key", ["k" * 256, ""])
def test_a_key_outside_1_to_255_chars_is_422_and_changes_nothing(
    client, db, admin_headers, resource, key
):
    body = {"resource_id": resource["id"], "start_time": START}
    with unchanged(db):
        response = client.post(BOOKINGS, json=body, headers=keyed(admin_headers, key))
    error = assert_error(response, 422, "validation_error")
    assert [d["field"] for d in error["details"]] == ["Idempotency-Key"]


@pytest.mark.parametrize("key", ["k" * 255, "k"])
def test_a_key_of_1_to_255_chars_is_accepted(client, db, admin_headers, resource, key):
    body = {"resource_id": resource["id"], "start_time": START}
    first = client.post(BOOKINGS, json=body, headers=keyed(admin_headers, key))
    assert first.status_code == 201
    replay = client.post(BOOKINGS, json=body, headers=keyed(admin_headers, key))
    assert replay.headers["Idempotent-Replayed"] == "true" and count(db, "bookings") == 1


def test_a_replayed_transition_does_not_add_a_second_event(
    client, db, admin_headers, write_headers, resource
):
    booking = client.post(
        BOOKINGS, json={"resource_id": resource["id"], "start_time": START}, headers=admin_headers
    ).json["data"]
    path = f"{BOOKINGS}/{booking['id']}/transition"
    headers = keyed(write_headers, "confirm-1")
    first = client.post(path, json={"status": "confirmed"}, headers=headers)
    assert first.status_code == 200 and first.json["data"]["status"] == "confirmed"
    with unchanged(db):
        second = client.post(path, json={"status": "confirmed"}, headers=headers)
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    events = client.get(f"{path.removesuffix('/transition')}/events", headers=write_headers)
    assert [e["type"] for e in events.json["data"]] == ["created", "status_changed"]
    # without the key the same request is a new attempt, and an invalid move
    assert_error(
        client.post(path, json={"status": "confirmed"}, headers=write_headers),
        422,
        "invalid_transition",
    )


def test_the_same_key_on_another_booking_s_transition_is_a_mismatch(
    client, db, admin_headers, make_resource
):
    made = [
        client.post(
            BOOKINGS,
            json={"resource_id": make_resource()["id"], "start_time": START},
            headers=admin_headers,
        ).json["data"]
        for _ in range(2)
    ]
    headers = keyed(admin_headers, "confirm-2")
    body = {"status": "confirmed"}
    first = client.post(f"{BOOKINGS}/{made[0]['id']}/transition", json=body, headers=headers)
    assert first.status_code == 200
    with unchanged(db):
        response = client.post(f"{BOOKINGS}/{made[1]['id']}/transition", json=body, headers=headers)
    assert_error(response, 422, "idempotency_mismatch")


def test_get_ignores_the_header(client, db, admin_headers, resource):
    body = {"resource_id": resource["id"], "start_time": START}
    created = client.post(BOOKINGS, json=body, headers=keyed(admin_headers, "get-1"))
    with unchanged(db):
        listed = client.get(BOOKINGS, headers=keyed(admin_headers, "get-1"))
        too_long = client.get(BOOKINGS, headers=keyed(admin_headers, "k" * 300))
    for response in (listed, too_long):
        assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
        assert [b["id"] for b in response.json["data"]] == [created.json["data"]["id"]]


def test_after_24_hours_the_key_can_be_used_afresh(
    client, db, admin_headers, resource, monkeypatch
):
    headers = keyed(admin_headers, "old-1")
    body = {"resource_id": resource["id"], "start_time": START}
    first = client.post(BOOKINGS, json=body, headers=headers)
    assert first.status_code == 201
    now = idempotency.wall_ms()
    monkeypatch.setattr(idempotency, "wall_ms", lambda: now + DAY_MS + 1)
    later = client.post(
        BOOKINGS, json={**body, "start_time": "2030-01-07T12:00:00Z"}, headers=headers
    )
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert count(db, "bookings") == 2


def test_a_body_that_is_not_json_is_400_before_the_key_is_checked(client, db, admin_headers):
    # API.md §1 check order: 400/413 come before 422 validation, the key's length included.
    with unchanged(db):
        response = client.post(
            BOOKINGS,
            data="{not json",
            content_type="application/json",
            headers=keyed(admin_headers, "k" * 256),
        )
    assert_error(response, 400, "bad_request")


def test_a_body_over_1_mib_is_413_before_the_key_is_checked(client, db, admin_headers):
    body = json.dumps({"resource_id": "res_x", "start_time": START, "notes": "x" * (1 << 20)})
    with unchanged(db):
        response = client.post(
            BOOKINGS,
            data=body,
            content_type="application/json",
            headers=keyed(admin_headers, "k" * 256),
        )
    assert_error(response, 413, "payload_too_large")


def test_a_body_over_1_mib_with_a_valid_key_is_413(client, db, admin_headers):
    body = json.dumps({"resource_id": "res_x", "start_time": START, "notes": "x" * (1 << 20)})
    with unchanged(db):
        response = client.post(
            BOOKINGS,
            data=body,
            content_type="application/json",
            headers=keyed(admin_headers, "big-1"),
        )
    assert_error(response, 413, "payload_too_large")


def test_racing_retries_with_one_key_do_the_work_once(app, db, admin_headers, resource):
    body = {"resource_id": resource["id"], "start_time": START}
    headers = keyed(admin_headers, "race-1")
    barrier = threading.Barrier(6)

    def attempt(_: int) -> tuple[int, bytes, str | None]:
        try:
            client = app.test_client()
            barrier.wait()
            response = client.post(BOOKINGS, json=body, headers=headers)
            return (
                response.status_code,
                response.get_data(),
                response.headers.get("Idempotent-Replayed"),
            )
        finally:
            store.close_thread_connections()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, range(6)))
    assert {status for status, _, _ in results} == {201}
    assert len({data for _, data, _ in results}) == 1
    assert sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * 5
    assert count(db, "bookings") == 1
