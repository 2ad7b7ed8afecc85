"""Bookings (API.md §4): create, overlap, list, get, patch, delete, transition, events via HTTP.

Each test reads as one line of the contract; every error path checks status, code, and that
nothing changed.
"""

from __future__ import annotations

import itertools
import json
import shlex
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app import store
from app.core.times import parse_instant
from app.domain.booking_states import replay
from tests.conftest import assert_error, unchanged

URL = "/modules/booking/bookings"
START = "2030-01-07T10:00:00Z"
FIELDS = {
    "id",
    "resource_id",
    "customer_id",
    "start_time",
    "end_time",
    "duration_minutes",
    "title",
    "notes",
    "metadata",
    "status",
    "cancel_reason",
    "created_at",
    "updated_at",
}
EVENT_FIELDS = {
    "id",
    "booking_id",
    "type",
    "from_status",
    "to_status",
    "actor",
    "data",
    "occurred_at",
    "node_id",
}
STATUSES = ("pending", "confirmed", "checked_in", "completed", "cancelled", "no_show")
TARGETS = ("confirmed", "checked_in", "completed", "cancelled", "no_show")
ALLOWED = {
    "pending": ("confirmed", "cancelled"),
    "confirmed": ("checked_in", "cancelled", "no_show"),
    "checked_in": ("completed",),
    "completed": (),
    "cancelled": (),
    "no_show": (),
}
# How the API gets a booking from pending to each status.
ROUTE = {
    "pending": [],
    "confirmed": ["confirmed"],
    "checked_in": ["confirmed", "checked_in"],
    "completed": ["confirmed", "checked_in", "completed"],
    "cancelled": ["cancelled"],
    "no_show": ["confirmed", "no_show"],
}
SEED = Path(__file__).resolve().parents[3] / "shared/seeds/saasignal-booking-bookings.txt"
SEED_HOST = "https://api.saasignal.saastemly.com"


@pytest.fixture
def make_booking(client, make_resource, admin_headers):
    """Factory: a booking made through the real API (new resource, 2030-01-07 10:00 by default)."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = {"start_time": START, **overrides}
        if "resource_id" not in body:
            body["resource_id"] = make_resource()["id"]
        response = client.post(URL, json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


@pytest.fixture
def booking_in(client, admin_headers, make_booking):
    """Factory: a booking brought to `status` by the API's own transitions."""

    def make(status: str, **overrides: Any) -> dict[str, Any]:
        booking = make_booking(**overrides)
        for target in ROUTE[status]:
            booking = transition(client, admin_headers, booking["id"], status=target)
        assert booking["status"] == status
        return booking

    return make


def transition(client, headers, booking_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{URL}/{booking_id}/transition", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def create(client, headers, **body: Any):
    return client.post(URL, json=body, headers=headers)


def events_of(client, headers, booking_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{URL}/{booking_id}/events?limit=100", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def fields_of(error: dict[str, Any]) -> list[str]:
    return [detail["field"] for detail in error.get("details", [])]


def ids(client, headers, query: str = "") -> list[str]:
    response = client.get(f"{URL}{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [booking["id"] for booking in response.json["data"]]


def last_changes(db, after_seq: int) -> list[tuple]:
    return db.execute(
        "SELECT entity, entity_id, op FROM change_log WHERE seq > ? ORDER BY seq", [after_seq]
    ).fetchall()


def max_seq(db) -> int:
    return db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0]


# --- create -------------------------------------------------------------------------------------


def test_create_returns_201_with_every_field_and_starts_pending(
    client, admin_headers, make_resource, make_customer
):
    resource = make_resource()
    customer = make_customer()
    body = {
        "resource_id": resource["id"],
        "customer_id": customer["id"],
        "start_time": START,
        "end_time": "2030-01-07T10:45:00Z",
        "title": "Haircut",
        "notes": "Short, please",
        "metadata": {"source": "phone"},
    }
    response = client.post(URL, json=body, headers=admin_headers)
    assert response.status_code == 201
    assert response.json["status"] == "ok"
    data = response.json["data"]
    assert FIELDS <= set(data)
    assert data["id"].startswith("bk_")
    assert {k: data[k] for k in body} == body
    assert data["duration_minutes"] == 45
    assert data["status"] == "pending" and data["cancel_reason"] is None
    assert data["created_at"].endswith("Z") and data["created_at"] == data["updated_at"]


def test_minimal_create_fills_defaults(make_booking):
    booking = make_booking()
    assert booking["customer_id"] is None and booking["title"] is None
    assert booking["notes"] is None and booking["metadata"] == {}


def test_create_records_a_created_event(client, read_headers, make_booking):
    booking = make_booking(title="Cut")
    response = client.get(f"{URL}/{booking['id']}", headers=read_headers)
    [event] = response.json["data"]["events"]
    assert EVENT_FIELDS <= set(event)
    assert event["id"].startswith("evt_") and event["booking_id"] == booking["id"]
    assert event["type"] == "created" and event["from_status"] is None
    assert event["to_status"] == "pending" and event["actor"] == "test"
    assert event["data"]["start_time"] == START and event["data"]["title"] == "Cut"
    assert event["occurred_at"].endswith("Z") and event["node_id"]


def test_unknown_resource_is_422_and_changes_nothing(client, db, admin_headers):
    with unchanged(db):
        response = create(client, admin_headers, resource_id="res_nope", start_time=START)
    assert_error(response, 422, "unknown_resource")


def test_unknown_customer_is_422_and_changes_nothing(client, db, admin_headers, make_resource):
    resource = make_resource()
    with unchanged(db):
        response = create(
            client,
            admin_headers,
            resource_id=resource["id"],
            customer_id="cus_nope",
            start_time=START,
        )
    assert_error(response, 422, "unknown_customer")


def test_body_validation_comes_before_the_resource_lookup(client, db, admin_headers):
    with unchanged(db):
        response = create(
            client, admin_headers, resource_id="res_nope", start_time=START, title="x" * 257
        )
    assert fields_of(assert_error(response, 422, "validation_error")) == ["title"]


def test_without_end_or_duration_the_resource_default_duration_applies(make_booking, make_resource):
    resource = make_resource(default_duration_minutes=45)
    booking = make_booking(resource_id=resource["id"])
    assert booking["end_time"] == "2030-01-07T10:45:00Z" and booking["duration_minutes"] == 45


def test_duration_alone_sets_the_end(make_booking):
    booking = make_booking(duration_minutes=90)
    assert booking["end_time"] == "2030-01-07T11:30:00Z" and booking["duration_minutes"] == 90


def test_end_alone_sets_the_duration(make_booking):
    booking = make_booking(end_time="2030-01-07T10:20:00Z")
    assert booking["duration_minutes"] == 20


def test_end_and_duration_that_agree_are_accepted(make_booking):
    booking = make_booking(end_time="2030-01-07T10:30:00Z", duration_minutes=30)
    assert booking["end_time"] == "2030-01-07T10:30:00Z" and booking["duration_minutes"] == 30


@pytest.mark.parametrize("minutes", [1, 1440])
def test_duration_at_its_bounds_is_accepted(make_booking, minutes):
    assert make_booking(duration_minutes=minutes)["duration_minutes"] == minutes


def test_a_full_day_by_end_time_is_accepted(make_booking):
    assert make_booking(end_time="2030-01-08T10:00:00Z")["duration_minutes"] == 1440


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"end_time": "2030-01-07T10:30:00Z", "duration_minutes": 60}, "duration_minutes"),
        ({"end_time": START}, "end_time"),
        ({"end_time": "2030-01-07T09:00:00Z"}, "end_time"),
        ({"end_time": "2030-01-07T10:00:30Z"}, "end_time"),
        ({"end_time": "2030-01-07T10:30:00.500Z"}, "end_time"),
        ({"end_time": "2030-01-08T10:01:00Z"}, "end_time"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"duration_minutes": -5}, "duration_minutes"),
        ({"duration_minutes": "60"}, "duration_minutes"),
        ({"duration_minutes": 1.5}, "duration_minutes"),
        ({"title": "x" * 257}, "title"),
        ({"title": 5}, "title"),
        ({"notes": "x" * 2001}, "notes"),
        ({"metadata": []}, "metadata"),
        ({"metadata": "x"}, "metadata"),
        ({"metadata": {"blob": "x" * 16400}}, "metadata"),
        ({"customer_id": 7}, "customer_id"),
        ({"titel": "typo"}, "titel"),
        ({"status": "confirmed"}, "status"),
        ({"start_time": None}, "start_time"),
        ({"start_time": 1893924000}, "start_time"),
        ({"start_time": "2025-02-29T10:00:00Z"}, "start_time"),
        ({"start_time": "2026-01-01T10:00:00+01:00"}, "start_time"),
        ({"start_time": "2026-01-01 10:00"}, "start_time"),
        ({"start_time": "2026-01-01T10:00:00"}, "start_time"),
        ({"start_time": "2026-01-01T24:00:00Z"}, "start_time"),
        ({"start_time": "2026-04-31T10:00:00Z"}, "start_time"),
        ({"start_time": "2026-01-01T10:00:00z"}, "start_time"),
        ({"end_time": "2026-01-01 11:00"}, "end_time"),
    ],
)
def test_invalid_create_is_422_naming_the_field_and_changes_nothing(
    client, db, admin_headers, make_resource, overrides, field
):
    body = {"resource_id": make_resource()["id"], "start_time": START, **overrides}
    with unchanged(db):
        response = client.post(URL, json=body, headers=admin_headers)
    assert field in fields_of(assert_error(response, 422, "validation_error"))


@pytest.mark.parametrize("missing", ["resource_id", "start_time"])
def test_required_fields_are_required(client, db, admin_headers, make_resource, missing):
    body = {"resource_id": make_resource()["id"], "start_time": START}
    del body[missing]
    with unchanged(db):
        response = client.post(URL, json=body, headers=admin_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == [missing]


def test_unknown_field_is_named_in_the_message(client, admin_headers, make_resource):
    body = {"resource_id": make_resource()["id"], "start_time": START, "titel": "x"}
    detail = assert_error(
        client.post(URL, json=body, headers=admin_headers), 422, "validation_error"
    )
    assert detail["details"] == [{"field": "titel", "message": "Unknown field 'titel'."}]


def test_text_fields_at_their_limits_are_accepted(make_booking):
    booking = make_booking(title="t" * 256, notes="n" * 2000, metadata={"blob": "x" * 16000})
    assert len(booking["title"]) == 256 and len(booking["notes"]) == 2000


def test_a_leap_day_is_a_valid_start(make_booking):
    assert make_booking(start_time="2028-02-29T10:00:00Z")["start_time"] == "2028-02-29T10:00:00Z"


@pytest.mark.parametrize(
    "sent, start, end",
    [
        ("2030-01-07T10:00Z", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"),
        ("2030-01-07T10:00:00.000Z", "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"),
        ("2030-01-07T10:00:00.5Z", "2030-01-07T10:00:00.500Z", "2030-01-07T11:00:00.500Z"),
        ("2030-01-07T10:00:00.250Z", "2030-01-07T10:00:00.250Z", "2030-01-07T11:00:00.250Z"),
        ("2030-01-07T10:00:00.123987Z", "2030-01-07T10:00:00.123Z", "2030-01-07T11:00:00.123Z"),
    ],
)
def test_times_come_back_in_canonical_form(make_booking, sent, start, end):
    booking = make_booking(start_time=sent)
    assert (booking["start_time"], booking["end_time"]) == (start, end)


# --- overlap ------------------------------------------------------------------------------------


def test_same_slot_is_slot_conflict_naming_the_booking_and_changes_nothing(
    client, db, admin_headers, make_booking
):
    first = make_booking()
    with unchanged(db):
        response = create(client, admin_headers, resource_id=first["resource_id"], start_time=START)
    error = assert_error(response, 422, "slot_conflict")
    assert first["id"] in error["details"][0]["message"]


@pytest.mark.parametrize(
    "start, end",
    [
        ("2030-01-07T09:30:00Z", "2030-01-07T10:30:00Z"),  # overlaps the start
        ("2030-01-07T10:30:00Z", "2030-01-07T11:30:00Z"),  # overlaps the end
        ("2030-01-07T10:15:00Z", "2030-01-07T10:45:00Z"),  # inside
        ("2030-01-07T09:00:00Z", "2030-01-07T12:00:00Z"),  # around
        ("2030-01-07T10:59:00Z", "2030-01-07T11:59:00Z"),  # by one minute
    ],
)
def test_partial_overlaps_are_slot_conflicts(client, db, admin_headers, make_booking, start, end):
    first = make_booking()  # 10:00-11:00
    with unchanged(db):
        response = create(
            client,
            admin_headers,
            resource_id=first["resource_id"],
            start_time=start,
            end_time=end,
        )
    assert first["id"] in assert_error(response, 422, "slot_conflict")["details"][0]["message"]


@pytest.mark.parametrize(
    "start, end",
    [
        ("2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z"),  # starts as the first ends
        ("2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),  # ends as the first starts
    ],
)
def test_touching_intervals_do_not_overlap(make_booking, start, end):
    first = make_booking()
    second = make_booking(resource_id=first["resource_id"], start_time=start, end_time=end)
    assert second["status"] == "pending"


def test_the_buffer_keeps_time_free_after_each_booking(
    client, db, admin_headers, make_booking, make_resource
):
    resource = make_resource(buffer_minutes=15)
    first = make_booking(resource_id=resource["id"])  # 10:00-11:00, free again at 11:15
    with unchanged(db):
        response = create(
            client, admin_headers, resource_id=resource["id"], start_time="2030-01-07T11:10:00Z"
        )
    assert first["id"] in assert_error(response, 422, "slot_conflict")["details"][0]["message"]
    assert make_booking(resource_id=resource["id"], start_time="2030-01-07T11:15:00Z")


def test_a_new_booking_s_own_buffer_must_not_run_into_the_next(
    client, db, admin_headers, make_booking, make_resource
):
    resource = make_resource(buffer_minutes=15)
    later = make_booking(resource_id=resource["id"])  # 10:00-11:00
    with unchanged(db):
        response = create(
            client,
            admin_headers,
            resource_id=resource["id"],
            start_time="2030-01-07T09:00:00Z",
            end_time="2030-01-07T09:50:00Z",
        )
    assert later["id"] in assert_error(response, 422, "slot_conflict")["details"][0]["message"]
    assert make_booking(
        resource_id=resource["id"], start_time="2030-01-07T08:45:00Z", duration_minutes=60
    )


def test_other_resources_are_unaffected(make_booking):
    first = make_booking()
    second = make_booking()  # a new resource, the same slot
    assert first["resource_id"] != second["resource_id"]
    assert (first["start_time"], first["end_time"]) == (second["start_time"], second["end_time"])


@pytest.mark.parametrize("status", ["pending", "confirmed", "checked_in"])
def test_an_active_booking_holds_its_slot(client, db, admin_headers, booking_in, status):
    held = booking_in(status)
    with unchanged(db):
        response = create(client, admin_headers, resource_id=held["resource_id"], start_time=START)
    assert held["id"] in assert_error(response, 422, "slot_conflict")["details"][0]["message"]


@pytest.mark.parametrize("status", ["cancelled", "no_show", "completed"])
def test_an_inactive_booking_frees_its_slot(booking_in, make_booking, status):
    gone = booking_in(status)
    again = make_booking(resource_id=gone["resource_id"])
    assert again["start_time"] == gone["start_time"] and again["status"] == "pending"


def test_a_blocker_occurrence_is_a_slot_conflict_naming_the_blocker(
    client, db, admin_headers, make_resource
):
    resource = make_resource()
    blocker = client.post(
        "/modules/booking/blockers",
        json={
            "resource_id": resource["id"],
            "start_time": "2030-01-07T10:30:00Z",
            "end_time": "2030-01-07T12:00:00Z",
        },
        headers=admin_headers,
    ).json["data"]
    with unchanged(db):
        response = create(client, admin_headers, resource_id=resource["id"], start_time=START)
    assert blocker["id"] in assert_error(response, 422, "slot_conflict")["details"][0]["message"]


def test_concurrent_requests_for_one_slot_give_exactly_one_201(app, admin_headers, make_resource):
    resource = make_resource()
    barrier = threading.Barrier(8)

    def attempt(_: int) -> int:
        try:
            client = app.test_client()
            barrier.wait()
            body = {"resource_id": resource["id"], "start_time": START}
            return client.post(URL, json=body, headers=admin_headers).status_code
        finally:
            store.close_thread_connections()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [201] + [422] * 7


# --- list ---------------------------------------------------------------------------------------


def test_list_is_ordered_by_start_time_then_id_whatever_the_creation_order(
    client, read_headers, make_booking
):
    late = make_booking(start_time="2030-01-07T12:00:00Z")
    early = make_booking(start_time="2030-01-07T08:00:00Z")
    middle_a = make_booking(start_time="2030-01-07T10:00:00Z")
    middle_b = make_booking(start_time="2030-01-07T10:00:00Z")
    expected = [early["id"], *sorted([middle_a["id"], middle_b["id"]]), late["id"]]
    assert ids(client, read_headers) == expected


def test_list_returns_the_envelope_with_meta(client, read_headers, make_booking):
    booking = make_booking()
    body = client.get(URL, headers=read_headers).json
    assert body["status"] == "ok" and body["data"] == [booking]
    assert body["meta"] == {"limit": 25, "next_cursor": None, "has_more": False}


def test_list_filters_by_one_status_or_a_comma_list(client, read_headers, booking_in):
    made = {status: booking_in(status)["id"] for status in STATUSES}
    assert ids(client, read_headers, "?status=confirmed") == [made["confirmed"]]
    listed = ids(client, read_headers, "?status=cancelled,no_show,pending")
    assert sorted(listed) == sorted([made["cancelled"], made["no_show"], made["pending"]])


@pytest.mark.parametrize("status", ["done", "pending,done", "Pending"])
def test_list_unknown_status_is_422(client, read_headers, status):
    response = client.get(f"{URL}?status={status}", headers=read_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == ["status"]


def test_list_filters_by_resource_and_customer(
    client, read_headers, make_booking, make_resource, make_customer
):
    resource = make_resource()
    customer = make_customer()
    on_resource = make_booking(resource_id=resource["id"])
    for_customer = make_booking(customer_id=customer["id"])
    both = make_booking(
        resource_id=resource["id"], customer_id=customer["id"], start_time="2030-01-08T10:00:00Z"
    )
    make_booking()
    assert ids(client, read_headers, f"?resource_id={resource['id']}") == [
        on_resource["id"],
        both["id"],
    ]
    assert ids(client, read_headers, f"?customer_id={customer['id']}") == [
        for_customer["id"],
        both["id"],
    ]
    query = f"?resource_id={resource['id']}&customer_id={customer['id']}"
    assert ids(client, read_headers, query) == [both["id"]]


def test_list_window_includes_overlapping_bookings_but_not_touching_ones(
    client, read_headers, make_booking
):
    def at(start: str, end: str) -> str:
        return make_booking(start_time=f"2030-01-07T{start}Z", end_time=f"2030-01-07T{end}Z")["id"]

    touches_from = at("09:00:00", "10:00:00")
    overlaps_from = at("09:30:00", "10:30:00")
    inside = at("10:30:00", "11:00:00")
    overlaps_to = at("11:30:00", "12:30:00")
    touches_to = at("12:00:00", "13:00:00")
    window = "from=2030-01-07T10:00:00Z&to=2030-01-07T12:00:00Z"
    assert ids(client, read_headers, f"?{window}") == [overlaps_from, inside, overlaps_to]
    assert ids(client, read_headers, "?from=2030-01-07T12:00:00Z") == [overlaps_to, touches_to]
    assert ids(client, read_headers, "?to=2030-01-07T10:00:00Z") == [touches_from, overlaps_from]


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2030-01-07T12:00:00Z&to=2030-01-07T10:00:00Z", "to"),
        ("from=2030-01-07T12:00:00Z&to=2030-01-07T12:00:00Z", "to"),
        ("from=2030-01-07 12:00", "from"),
        ("to=2025-02-29T10:00:00Z", "to"),
    ],
)
def test_list_bad_window_is_422(client, read_headers, query, field):
    response = client.get(f"{URL}?{query}", headers=read_headers)
    assert field in fields_of(assert_error(response, 422, "validation_error"))


def test_list_ignores_unknown_query_parameters(client, read_headers, make_booking):
    booking = make_booking()
    assert ids(client, read_headers, "?colour=blue&statuses=nope") == [booking["id"]]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5", ""])
def test_list_limit_out_of_range_is_422(client, read_headers, limit):
    response = client.get(f"{URL}?limit={limit}", headers=read_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == ["limit"]


@pytest.mark.parametrize("limit", ["1", "100"])
def test_list_limit_at_its_bounds_is_accepted(client, read_headers, make_booking, limit):
    make_booking()
    response = client.get(f"{URL}?limit={limit}", headers=read_headers)
    assert response.status_code == 200 and response.json["meta"]["limit"] == int(limit)


def test_list_cursor_paging_walks_every_booking_exactly_once(client, read_headers, make_booking):
    starts = ["12:00", "08:00", "10:00", "10:00", "09:00", "11:00", "10:00"]
    made = [make_booking(start_time=f"2030-01-07T{s}:00Z") for s in starts]
    expected = [b["id"] for b in sorted(made, key=lambda b: (b["start_time"], b["id"]))]
    first = client.get(f"{URL}?limit=3", headers=read_headers).json
    assert first["meta"]["limit"] == 3 and first["meta"]["has_more"] is True
    seen = [b["id"] for b in first["data"]]
    cursor = first["meta"]["next_cursor"]
    while cursor:
        page = client.get(f"{URL}?limit=3&cursor={cursor}", headers=read_headers).json
        seen += [b["id"] for b in page["data"]]
        cursor = page["meta"]["next_cursor"]
        assert page["meta"]["has_more"] is (cursor is not None)
    assert seen == expected


@pytest.mark.parametrize("cursor", ["abc", "eyJ4IjoxfQ.forged", ""])
def test_list_forged_cursor_is_422(client, read_headers, make_booking, cursor):
    make_booking()
    response = client.get(f"{URL}?cursor={cursor}", headers=read_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == ["cursor"]


def test_list_cursor_from_another_list_is_422(client, read_headers, make_customer):
    for _ in range(2):
        make_customer()
    cursor = client.get("/modules/booking/customers?limit=1", headers=read_headers).json["meta"][
        "next_cursor"
    ]
    response = client.get(f"{URL}?cursor={cursor}", headers=read_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == ["cursor"]


# --- get ----------------------------------------------------------------------------------------


def test_get_returns_the_booking_and_its_events(client, read_headers, make_booking):
    booking = make_booking()
    response = client.get(f"{URL}/{booking['id']}", headers=read_headers)
    assert response.status_code == 200 and response.json["status"] == "ok"
    data = response.json["data"]
    assert {k: v for k, v in data.items() if k != "events"} == booking
    assert [e["type"] for e in data["events"]] == ["created"]


def test_get_shows_only_the_20_most_recent_events_oldest_first(client, write_headers, make_booking):
    booking = make_booking()
    for n in range(25):
        response = client.patch(
            f"{URL}/{booking['id']}", json={"title": f"v{n}"}, headers=write_headers
        )
        assert response.status_code == 200
    every = events_of(client, write_headers, booking["id"])
    assert len(every) == 26
    shown = client.get(f"{URL}/{booking['id']}", headers=write_headers).json["data"]["events"]
    assert shown == every[-20:]
    assert [e["data"]["changed"]["title"]["to"] for e in shown] == [f"v{n}" for n in range(5, 25)]


def test_get_unknown_id_is_404(client, read_headers):
    assert_error(client.get(f"{URL}/bk_nope", headers=read_headers), 404, "not_found")


# --- patch --------------------------------------------------------------------------------------


def test_patch_sets_title_and_notes_to_strings_or_null(client, write_headers, make_booking):
    booking = make_booking(title="Cut", notes="n")
    response = client.patch(
        f"{URL}/{booking['id']}",
        json={"title": None, "notes": "Bring photos"},
        headers=write_headers,
    )
    assert response.status_code == 200 and response.json["status"] == "ok"
    data = response.json["data"]
    assert data["title"] is None and data["notes"] == "Bring photos"
    assert {k: data[k] for k in FIELDS - {"title", "notes", "updated_at"}} == {
        k: booking[k] for k in FIELDS - {"title", "notes", "updated_at"}
    }
    # As text, "…:46.002Z" sorts before "…:46Z": compare instants.
    assert parse_instant(data["updated_at"]) >= parse_instant(booking["updated_at"])


def test_patch_metadata_replaces_the_object(client, write_headers, make_booking):
    booking = make_booking(metadata={"a": 1, "b": 2})
    response = client.patch(
        f"{URL}/{booking['id']}", json={"metadata": {"c": 3}}, headers=write_headers
    )
    assert response.json["data"]["metadata"] == {"c": 3}


def test_patch_changes_only_the_sent_fields(client, write_headers, make_booking):
    booking = make_booking(title="Cut", notes="n", metadata={"a": 1})
    data = client.patch(f"{URL}/{booking['id']}", json={"notes": "m"}, headers=write_headers).json[
        "data"
    ]
    assert (data["title"], data["notes"], data["metadata"]) == ("Cut", "m", {"a": 1})


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "x" * 257}, "title"),
        ({"title": 5}, "title"),
        ({"notes": "x" * 2001}, "notes"),
        ({"metadata": []}, "metadata"),
        ({"metadata": "x"}, "metadata"),
        ({"status": "confirmed"}, "status"),
        ({"start_time": "2030-01-07T11:00:00Z"}, "start_time"),
        ({"end_time": "2030-01-07T12:00:00Z"}, "end_time"),
        ({"resource_id": "res_other"}, "resource_id"),
        ({"cancel_reason": "x"}, "cancel_reason"),
    ],
)
def test_invalid_patch_is_422_naming_the_field_and_changes_nothing(
    client, db, write_headers, make_booking, body, field
):
    booking = make_booking()
    with unchanged(db):
        response = client.patch(f"{URL}/{booking['id']}", json=body, headers=write_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == [field]


@pytest.mark.parametrize("status", ["pending", "confirmed"])
def test_patch_is_allowed_while_pending_or_confirmed(client, write_headers, booking_in, status):
    booking = booking_in(status)
    response = client.patch(f"{URL}/{booking['id']}", json={"title": "T"}, headers=write_headers)
    assert response.status_code == 200 and response.json["data"]["title"] == "T"


@pytest.mark.parametrize("status", ["checked_in", "completed", "cancelled", "no_show"])
def test_patch_in_other_states_is_invalid_state_and_changes_nothing(
    client, db, write_headers, booking_in, status
):
    booking = booking_in(status)
    with unchanged(db):
        response = client.patch(
            f"{URL}/{booking['id']}", json={"title": "T"}, headers=write_headers
        )
    assert status in assert_error(response, 422, "invalid_state")["message"]


def test_patch_records_an_updated_event_listing_the_changed_fields(
    client, write_headers, make_booking
):
    booking = make_booking(title="Cut", metadata={"a": 1})
    client.patch(
        f"{URL}/{booking['id']}",
        json={"title": "Colour", "notes": None, "metadata": {"b": 2}},
        headers=write_headers,
    )
    event = events_of(client, write_headers, booking["id"])[-1]
    assert event["type"] == "updated" and event["actor"] == "test"
    assert event["from_status"] is None and event["to_status"] is None
    assert event["data"]["changed"] == {
        "title": {"from": "Cut", "to": "Colour"},
        "metadata": {"from": {"a": 1}, "to": {"b": 2}},
    }


def test_a_patch_that_changes_nothing_records_no_event(client, db, write_headers, make_booking):
    booking = make_booking(title="Same", notes=None)
    with unchanged(db):
        response = client.patch(
            f"{URL}/{booking['id']}", json={"title": "Same", "notes": None}, headers=write_headers
        )
        empty = client.patch(f"{URL}/{booking['id']}", json={}, headers=write_headers)
    assert response.status_code == 200 and response.json["data"] == booking
    assert empty.status_code == 200 and empty.json["data"] == booking


def test_patch_unknown_id_is_404_after_validation(client, db, write_headers):
    with unchanged(db):
        assert_error(
            client.patch(f"{URL}/bk_nope", json={"title": "X"}, headers=write_headers),
            404,
            "not_found",
        )
        assert_error(
            client.patch(f"{URL}/bk_nope", json={"title": 5}, headers=write_headers),
            422,
            "validation_error",
        )


def test_read_key_cannot_create_or_patch(client, db, read_headers, make_booking, make_resource):
    booking = make_booking()
    resource = make_resource()
    with unchanged(db):
        assert_error(
            create(client, read_headers, resource_id=resource["id"], start_time=START),
            403,
            "forbidden",
        )
        assert_error(
            client.patch(f"{URL}/{booking['id']}", json={"title": "X"}, headers=read_headers),
            403,
            "forbidden",
        )


# --- delete -------------------------------------------------------------------------------------


def test_delete_needs_admin(client, db, write_headers, make_booking):
    booking = make_booking()
    with unchanged(db):
        response = client.delete(f"{URL}/{booking['id']}", headers=write_headers)
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize("status", ["pending", "cancelled"])
def test_delete_removes_the_booking_and_its_events(client, db, admin_headers, booking_in, status):
    booking = booking_in(status)
    before = max_seq(db)
    response = client.delete(f"{URL}/{booking['id']}", headers=admin_headers)
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert response.json["data"]["id"] == booking["id"]
    assert_error(client.get(f"{URL}/{booking['id']}", headers=admin_headers), 404, "not_found")
    assert_error(
        client.get(f"{URL}/{booking['id']}/events", headers=admin_headers), 404, "not_found"
    )
    assert booking["id"] not in ids(client, admin_headers)
    left = db.execute(
        "SELECT COUNT(*) FROM booking_events WHERE booking_id = ?", [booking["id"]]
    ).fetchone()[0]
    assert left == 0
    assert last_changes(db, before) == [("booking", booking["id"], "delete")]
    assert_error(client.delete(f"{URL}/{booking['id']}", headers=admin_headers), 404, "not_found")


@pytest.mark.parametrize("status", ["confirmed", "checked_in", "completed", "no_show"])
def test_delete_in_other_states_is_invalid_state_and_changes_nothing(
    client, db, admin_headers, booking_in, status
):
    booking = booking_in(status)
    with unchanged(db):
        response = client.delete(f"{URL}/{booking['id']}", headers=admin_headers)
    assert status in assert_error(response, 422, "invalid_state")["message"]


def test_delete_unknown_id_is_404(client, db, admin_headers):
    with unchanged(db):
        assert_error(client.delete(f"{URL}/bk_nope", headers=admin_headers), 404, "not_found")


def test_a_deleted_booking_frees_its_slot(client, admin_headers, make_booking):
    booking = make_booking()
    client.delete(f"{URL}/{booking['id']}", headers=admin_headers)
    assert make_booking(resource_id=booking["resource_id"])["start_time"] == START


# --- transition ---------------------------------------------------------------------------------


@pytest.mark.parametrize("from_status, to_status", list(itertools.product(STATUSES, TARGETS)))
def test_status_machine(client, db, write_headers, booking_in, from_status, to_status):
    booking = booking_in(from_status)
    path = f"{URL}/{booking['id']}/transition"
    if to_status in ALLOWED[from_status]:
        response = client.post(path, json={"status": to_status}, headers=write_headers)
        assert response.status_code == 200, response.json
        assert response.json["data"]["status"] == to_status
        return
    with unchanged(db):
        response = client.post(path, json={"status": to_status}, headers=write_headers)
    error = assert_error(response, 422, "invalid_transition")
    for allowed in ALLOWED[from_status]:
        assert allowed in error["message"]
    if not ALLOWED[from_status]:
        assert from_status in error["message"]


def test_invalid_transition_message_names_exactly_the_allowed_next_statuses(
    client, write_headers, booking_in
):
    booking = booking_in("confirmed")
    response = client.post(
        f"{URL}/{booking['id']}/transition", json={"status": "completed"}, headers=write_headers
    )
    message = assert_error(response, 422, "invalid_transition")["message"]
    named = [status for status in STATUSES if status in message]
    assert sorted(named) == sorted(["confirmed", "checked_in", "cancelled", "no_show"])


def test_cancel_twice_is_invalid_transition(client, db, write_headers, booking_in):
    booking = booking_in("cancelled")
    with unchanged(db):
        response = client.post(
            f"{URL}/{booking['id']}/transition", json={"status": "cancelled"}, headers=write_headers
        )
    assert_error(response, 422, "invalid_transition")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "pending"}, "status"),
        ({"status": "done"}, "status"),
        ({"status": "Confirmed"}, "status"),
        ({"status": None}, "status"),
        ({}, "status"),
        ({"status": "confirmed", "cancel_reason": "why"}, "cancel_reason"),
        ({"status": "no_show", "cancel_reason": "why"}, "cancel_reason"),
        ({"status": "cancelled", "cancel_reason": "x" * 1001}, "cancel_reason"),
        ({"status": "cancelled", "actor": "a" * 257}, "actor"),
        ({"status": "cancelled", "reason": "typo"}, "reason"),
    ],
)
def test_invalid_transition_body_is_422_naming_the_field_and_changes_nothing(
    client, db, write_headers, make_booking, body, field
):
    booking = make_booking()
    with unchanged(db):
        response = client.post(
            f"{URL}/{booking['id']}/transition", json=body, headers=write_headers
        )
    assert field in fields_of(assert_error(response, 422, "validation_error"))


def test_transition_returns_the_booking_and_records_a_status_changed_event(
    client, write_headers, make_booking
):
    booking = make_booking()
    data = transition(
        client,
        write_headers,
        booking["id"],
        status="cancelled",
        cancel_reason="x" * 1000,
        actor="a" * 256,
    )
    assert FIELDS <= set(data)
    assert data["id"] == booking["id"] and data["status"] == "cancelled"
    assert data["cancel_reason"] == "x" * 1000
    event = events_of(client, write_headers, booking["id"])[-1]
    assert event["type"] == "status_changed"
    assert (event["from_status"], event["to_status"]) == ("pending", "cancelled")
    assert event["actor"] == "a" * 256
    assert event["data"]["cancel_reason"] == "x" * 1000


def test_transition_actor_defaults_to_the_api_key_s_name(client, write_headers, make_booking):
    booking = make_booking()
    transition(client, write_headers, booking["id"], status="confirmed")
    event = events_of(client, write_headers, booking["id"])[-1]
    assert event["actor"] == "test"
    assert (event["from_status"], event["to_status"]) == ("pending", "confirmed")


def test_cancelling_without_a_reason_leaves_it_null(client, write_headers, make_booking):
    booking = make_booking()
    data = transition(client, write_headers, booking["id"], status="cancelled")
    assert data["cancel_reason"] is None
    event = events_of(client, write_headers, booking["id"])[-1]
    assert event["data"].get("cancel_reason") is None


def test_transition_unknown_id_is_404_after_validation(client, db, write_headers):
    path = f"{URL}/bk_nope/transition"
    with unchanged(db):
        assert_error(
            client.post(path, json={"status": "confirmed"}, headers=write_headers),
            404,
            "not_found",
        )
        assert_error(
            client.post(path, json={"status": "nope"}, headers=write_headers),
            422,
            "validation_error",
        )


# --- events -------------------------------------------------------------------------------------


def test_events_lists_every_event_oldest_first(client, read_headers, write_headers, make_booking):
    booking = make_booking()
    client.patch(f"{URL}/{booking['id']}", json={"title": "T"}, headers=write_headers)
    transition(client, write_headers, booking["id"], status="confirmed")
    transition(client, write_headers, booking["id"], status="checked_in")
    response = client.get(f"{URL}/{booking['id']}/events", headers=read_headers)
    assert response.status_code == 200 and response.json["status"] == "ok"
    events = response.json["data"]
    assert [e["type"] for e in events] == ["created", "updated", "status_changed", "status_changed"]
    assert [e["to_status"] for e in events] == ["pending", None, "confirmed", "checked_in"]
    assert all(EVENT_FIELDS <= set(e) and e["booking_id"] == booking["id"] for e in events)
    # Instants, not text: "…:41Z" sorts after "…:41.001Z" as text.
    instants = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert instants == sorted(instants)
    assert response.json["meta"] == {"limit": 25, "next_cursor": None, "has_more": False}


def test_events_page_with_limit_and_cursor(client, write_headers, make_booking):
    booking = make_booking()
    for n in range(6):
        client.patch(f"{URL}/{booking['id']}", json={"title": f"v{n}"}, headers=write_headers)
    every = [e["id"] for e in events_of(client, write_headers, booking["id"])]
    assert len(every) == 7
    path = f"{URL}/{booking['id']}/events?limit=3"
    page = client.get(path, headers=write_headers).json
    assert page["meta"]["has_more"] is True and page["meta"]["limit"] == 3
    seen = [e["id"] for e in page["data"]]
    while page["meta"]["next_cursor"]:
        page = client.get(f"{path}&cursor={page['meta']['next_cursor']}", headers=write_headers)
        page = page.json
        seen += [e["id"] for e in page["data"]]
    assert seen == every


def test_events_of_unknown_booking_is_404(client, read_headers):
    assert_error(client.get(f"{URL}/bk_nope/events", headers=read_headers), 404, "not_found")


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("cursor=forged", "cursor")])
def test_events_bad_query_is_422(client, read_headers, make_booking, query, field):
    booking = make_booking()
    response = client.get(f"{URL}/{booking['id']}/events?{query}", headers=read_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == [field]


def test_events_cursor_of_another_booking_is_422(client, write_headers, make_booking):
    one, other = make_booking(), make_booking()
    for booking in (one, other):
        client.patch(f"{URL}/{booking['id']}", json={"title": "T"}, headers=write_headers)
    cursor = client.get(f"{URL}/{one['id']}/events?limit=1", headers=write_headers).json["meta"][
        "next_cursor"
    ]
    response = client.get(f"{URL}/{other['id']}/events?cursor={cursor}", headers=write_headers)
    assert fields_of(assert_error(response, 422, "validation_error")) == ["cursor"]


# --- event sourcing (SYNC.md §5) and the change log ------------------------------------------


def _replays_to_stored_state(db, booking_id: str) -> None:
    state, anomalies = replay(store.booking_events(db, booking_id))
    assert anomalies == {}
    assert state == store.get_booking(db, booking_id)


def test_replaying_the_events_gives_the_stored_booking(
    client, db, write_headers, make_booking, make_customer
):
    booking = make_booking(customer_id=make_customer()["id"], title="Cut", metadata={"a": 1})
    path = f"{URL}/{booking['id']}"
    _replays_to_stored_state(db, booking["id"])
    client.patch(path, json={"title": "Colour", "notes": "n"}, headers=write_headers)
    transition(client, write_headers, booking["id"], status="confirmed")
    client.patch(path, json={"metadata": {"b": [1, 2]}, "notes": None}, headers=write_headers)
    client.patch(path, json={"title": "Colour"}, headers=write_headers)  # no-op
    _replays_to_stored_state(db, booking["id"])
    transition(client, write_headers, booking["id"], status="checked_in", actor="Sam")
    transition(client, write_headers, booking["id"], status="completed")
    _replays_to_stored_state(db, booking["id"])


def test_replaying_a_cancellation_keeps_its_reason(client, db, write_headers, booking_in):
    booking = booking_in("confirmed")
    transition(client, write_headers, booking["id"], status="cancelled", cancel_reason="ill")
    _replays_to_stored_state(db, booking["id"])
    assert store.get_booking(db, booking["id"])["cancel_reason"] == "ill"


def test_every_create_patch_and_transition_appends_one_booking_event_change(
    client, db, write_headers, make_booking
):
    before = max_seq(db)
    booking = make_booking()
    steps = [
        lambda: client.patch(f"{URL}/{booking['id']}", json={"title": "T"}, headers=write_headers),
        lambda: transition(client, write_headers, booking["id"], status="confirmed"),
        lambda: client.patch(f"{URL}/{booking['id']}", json={"notes": "n"}, headers=write_headers),
        lambda: transition(client, write_headers, booking["id"], status="cancelled"),
    ]
    # make_booking also created a resource: only the booking's own rows count here.
    created = [row for row in last_changes(db, before) if row[0] != "resource"]
    event_ids = [e["id"] for e in events_of(client, write_headers, booking["id"])]
    assert created == [("booking_event", event_ids[0], "event")]
    for do in steps:
        seq = max_seq(db)
        do()
        newest = events_of(client, write_headers, booking["id"])[-1]["id"]
        assert last_changes(db, seq) == [("booking_event", newest, "event")]


# --- the seed's curl examples -------------------------------------------------------------------


def seed_examples() -> list[tuple[str, str, str, dict | None, int]]:
    """(title, method, path, body, documented status) for each curl example in the seed."""
    if not SEED.exists():
        return []
    lines = SEED.read_text(encoding="utf-8").splitlines()
    examples = []
    for index, line in enumerate(lines):
        if not line.startswith("curl "):
            continue
        command, end = [], index
        while True:
            command.append(lines[end].rstrip("\\").strip())
            if not lines[end].endswith("\\"):
                break
            end += 1
        args = shlex.split(" ".join(command))
        method = args[args.index("-X") + 1] if "-X" in args else "GET"
        url = next(arg for arg in args if arg.startswith(SEED_HOST))
        body = json.loads(args[args.index("-d") + 1]) if "-d" in args else None
        assert lines[index - 7] == method, lines[index - 9 : index + 1]
        status = int(lines[end + 1].split()[2])  # "json — 201 Created"
        examples.append((lines[index - 9], method, url.removeprefix(SEED_HOST), body, status))
    return examples


def test_the_seed_has_the_seven_booking_examples():
    if not SEED.exists():
        pytest.skip(f"seed file {SEED} is not here")
    assert [(title, method, status) for title, method, _, _, status in seed_examples()] == [
        ("Create a booking", "POST", 201),
        ("List bookings", "GET", 200),
        ("Get a booking", "GET", 200),
        ("Update a booking", "PATCH", 200),
        ("Delete a booking", "DELETE", 200),
        ("Transition booking status", "POST", 200),
        ("Get booking events", "GET", 200),
    ]


@pytest.mark.parametrize(
    "title, method, path, body, documented_status",
    [
        pytest.param(*example, id=example[0].lower().replace(" ", "-"))
        for example in seed_examples()
    ],
)
def test_the_seed_curl_example_answers_as_documented(
    client, admin_headers, make_resource, booking_in, title, method, path, body, documented_status
):
    # The seed's transition example asks for `completed`, which only a checked-in booking allows.
    booking = booking_in("checked_in" if title == "Transition booking status" else "pending")
    if body is not None:
        if body.get("resource_id") == "...":
            body["resource_id"] = make_resource()["id"]
        if body.get("start_time") == {}:
            body["start_time"] = START
    response = client.open(
        path.replace("{booking_id}", booking["id"]),
        method=method,
        json=body,
        headers=admin_headers,
    )
    assert response.status_code == documented_status, (title, response.json)
    assert response.json["status"] == "ok"
    if "{booking_id}" in path and not path.endswith("/events"):
        assert response.json["data"]["id"] == booking["id"]
    if title == "Create a booking":
        assert response.json["data"]["status"] == "pending"
    if title == "List bookings":
        assert booking["id"] in [b["id"] for b in response.json["data"]]
    if title == "Transition booking status":
        assert response.json["data"]["status"] == "completed"
    if title == "Get booking events":
        assert response.json["data"][0]["type"] == "created"
