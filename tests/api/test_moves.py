"""Moving a booking and undoing a status (API.md §8) through HTTP: every route and error, and
bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from app import store
from app.core.times import parse_instant, wall_ms
from app.domain.booking_states import replay
from tests.conftest import assert_error, unchanged

URL = "/modules/booking/bookings"
START = "2030-01-07T10:00:00Z"
ROUTE = {
    "pending": [],
    "confirmed": ["confirmed"],
    "checked_in": ["confirmed", "checked_in"],
    "completed": ["confirmed", "checked_in", "completed"],
    "cancelled": ["cancelled"],
    "no_show": ["confirmed", "no_show"],
}


@pytest.fixture
def chair(make_resource):
    return make_resource(name="Chair 1")


@pytest.fixture
def make_booking(client, admin_headers, chair):
    def make(status: str = "pending", **overrides: Any) -> dict[str, Any]:
        body = {"resource_id": chair["id"], "start_time": START, **overrides}
        response = client.post(URL, json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        booking = response.json["data"]
        for target in ROUTE[status]:
            booking = post(client, admin_headers, f"{booking['id']}/transition", status=target)
        return booking

    return make


def post(client, headers, path: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{URL}/{path}", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def move(client, headers, booking_id: str, **body: Any):
    return client.post(f"{URL}/{booking_id}/move", json=body, headers=headers)


def undo(client, headers, booking_id: str, **body: Any):
    return client.post(f"{URL}/{booking_id}/undo", json=body, headers=headers)


def events_of(client, headers, booking_id: str) -> list[dict[str, Any]]:
    response = client.get(f"{URL}/{booking_id}/events?limit=100", headers=headers)
    return response.json["data"]


# --- moves ------------------------------------------------------------------------------------


def test_a_move_changes_the_time_keeps_the_length_and_records_both_slots(
    client, write_headers, make_booking, chair
):
    booking = make_booking()
    response = move(client, write_headers, booking["id"], start_time="2030-01-07T14:30:00Z")
    assert response.status_code == 200, response.json
    moved = response.json["data"]
    assert (moved["start_time"], moved["end_time"]) == (
        "2030-01-07T14:30:00Z",
        "2030-01-07T15:30:00Z",
    )
    assert moved["status"] == "pending" and moved["id"] == booking["id"]
    assert response.json["meta"] == {"outside_business_hours": False}
    event = events_of(client, write_headers, booking["id"])[-1]
    assert event["type"] == "moved" and event["actor"] == "test"
    assert event["data"] == {
        "from": {
            "resource_id": chair["id"],
            "start_time": START,
            "end_time": "2030-01-07T11:00:00Z",
        },
        "to": {
            "resource_id": chair["id"],
            "start_time": "2030-01-07T14:30:00Z",
            "end_time": "2030-01-07T15:30:00Z",
        },
    }


def test_a_move_to_another_resource_keeps_the_time(
    client, write_headers, make_booking, make_resource
):
    other = make_resource(name="Chair 2")
    booking = make_booking("confirmed")
    moved = post(client, write_headers, f"{booking['id']}/move", resource_id=other["id"])
    assert moved["resource_id"] == other["id"] and moved["start_time"] == START
    assert moved["status"] == "confirmed"


def test_a_move_may_change_resource_time_and_length_at_once(
    client, write_headers, make_booking, make_resource
):
    other = make_resource(name="Chair 2")
    booking = make_booking()
    moved = post(
        client,
        write_headers,
        f"{booking['id']}/move",
        resource_id=other["id"],
        start_time="2030-01-08T09:00:00Z",
        duration_minutes=30,
    )
    assert (moved["resource_id"], moved["start_time"], moved["end_time"]) == (
        other["id"],
        "2030-01-08T09:00:00Z",
        "2030-01-08T09:30:00Z",
    )
    assert moved["duration_minutes"] == 30


def test_a_move_with_start_and_end_sets_both(client, write_headers, make_booking):
    booking = make_booking()
    moved = post(
        client,
        write_headers,
        f"{booking['id']}/move",
        start_time="2030-01-07T12:00:00Z",
        end_time="2030-01-07T12:45:00Z",
    )
    assert moved["duration_minutes"] == 45


def test_a_move_onto_its_own_overlapping_slot_is_fine(client, write_headers, make_booking):
    booking = make_booking()  # 10:00-11:00; 10:30-11:30 overlaps only itself
    moved = post(client, write_headers, f"{booking['id']}/move", start_time="2030-01-07T10:30:00Z")
    assert moved["start_time"] == "2030-01-07T10:30:00Z"


def test_a_move_to_where_it_already_is_records_nothing(client, db, write_headers, make_booking):
    booking = make_booking()
    with unchanged(db):
        response = move(client, write_headers, booking["id"], start_time=START)
    assert response.status_code == 200 and response.json["data"]["start_time"] == START


def test_a_move_into_a_taken_slot_is_slot_conflict_in_words_and_changes_nothing(
    client, db, write_headers, make_booking, make_customer
):
    ada = make_customer(name="Ada Lovelace")
    taken = make_booking(start_time="2030-01-07T14:00:00Z", customer_id=ada["id"], title="Trim")
    booking = make_booking()
    with unchanged(db):
        response = move(client, write_headers, booking["id"], start_time="2030-01-07T14:30:00Z")
    error = assert_error(response, 422, "slot_conflict")
    assert error["message"] == (
        "Chair 1 is not free from 2030-01-07T14:30:00Z to 2030-01-07T15:30:00Z: it is booked "
        "from 2030-01-07T14:00:00Z to 2030-01-07T15:00:00Z for Ada Lovelace (Trim)."
    )
    assert taken["id"] in error["details"][0]["message"]


def test_a_move_refused_by_a_buffer_says_so(client, db, write_headers, make_resource):
    chair = make_resource(name="Chair 9", buffer_minutes=15)
    first = client.post(
        URL,
        json={"resource_id": chair["id"], "start_time": "2030-01-07T09:45:00Z"},
        headers=write_headers,
    ).json["data"]
    second = client.post(
        URL,
        json={"resource_id": chair["id"], "start_time": "2030-01-07T13:00:00Z"},
        headers=write_headers,
    ).json["data"]
    with unchanged(db):
        response = move(client, write_headers, second["id"], start_time="2030-01-07T10:50:00Z")
    error = assert_error(response, 422, "slot_conflict")
    assert "it is booked from 2030-01-07T09:45:00Z to 2030-01-07T10:45:00Z" in error["message"]
    assert error["message"].endswith("and 15 minutes are kept free after that booking.")
    assert first["id"] in error["details"][0]["message"]


def test_a_move_onto_a_blocker_names_it(client, db, write_headers, make_booking, chair):
    blocker = client.post(
        "/modules/booking/blockers",
        json={
            "resource_id": chair["id"],
            "title": "Lunch",
            "start_time": "2030-01-07T12:00:00Z",
            "end_time": "2030-01-07T13:00:00Z",
        },
        headers=write_headers,
    ).json["data"]
    booking = make_booking()
    with unchanged(db):
        response = move(client, write_headers, booking["id"], start_time="2030-01-07T12:30:00Z")
    error = assert_error(response, 422, "slot_conflict")
    assert (
        "it is blocked from 2030-01-07T12:00:00Z to 2030-01-07T13:00:00Z (Lunch)"
        in (error["message"])
    )
    assert blocker["id"] in error["details"][0]["message"]


@pytest.mark.parametrize("status", ["checked_in", "completed", "cancelled", "no_show"])
def test_only_pending_or_confirmed_bookings_move(client, db, write_headers, make_booking, status):
    booking = make_booking(status)
    with unchanged(db):
        response = move(client, write_headers, booking["id"], start_time="2030-01-07T15:00:00Z")
    assert "only pending or confirmed" in assert_error(response, 422, "invalid_state")["message"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "start_time"),
        ({"start_time": "2030-01-07 15:00"}, "start_time"),
        ({"end_time": "2030-01-07T15:00:00Z"}, "end_time"),
        ({"start_time": "2030-01-07T15:00:00Z", "end_time": "2030-01-07T14:00:00Z"}, "end_time"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        (
            {"start_time": START, "end_time": "2030-01-07T10:30:00Z", "duration_minutes": 45},
            "duration_minutes",
        ),
        ({"resource_id": ""}, "resource_id"),
        ({"start_time": START, "colour": "red"}, "colour"),
    ],
)
def test_an_invalid_move_is_422_naming_the_field_and_changes_nothing(
    client, db, write_headers, make_booking, body, field
):
    booking = make_booking()
    with unchanged(db):
        response = move(client, write_headers, booking["id"], **body)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]], error


def test_a_move_to_an_unknown_resource_is_422_and_changes_nothing(
    client, db, write_headers, make_booking
):
    booking = make_booking()
    with unchanged(db):
        response = move(client, write_headers, booking["id"], resource_id="res_nope")
    assert_error(response, 422, "unknown_resource")


def test_moving_an_unknown_booking_is_404(client, db, write_headers):
    with unchanged(db):
        response = move(client, write_headers, "bk_nope", start_time=START)
    assert_error(response, 404, "not_found")


def test_a_read_key_cannot_move(client, db, read_headers, make_booking):
    booking = make_booking()
    with unchanged(db):
        assert_error(move(client, read_headers, booking["id"], start_time=START), 403, "forbidden")


def test_a_move_is_idempotent_with_a_key(client, db, write_headers, make_booking):
    booking = make_booking()
    headers = {**write_headers, "Idempotency-Key": "move-1"}
    first = move(client, headers, booking["id"], start_time="2030-01-07T15:00:00Z")
    events = len(events_of(client, write_headers, booking["id"]))
    again = move(client, headers, booking["id"], start_time="2030-01-07T15:00:00Z")
    assert (again.status_code, again.json) == (first.status_code, first.json)
    assert len(events_of(client, write_headers, booking["id"])) == events
    with unchanged(db):
        other = move(client, headers, booking["id"], start_time="2030-01-07T16:00:00Z")
    assert_error(other, 422, "idempotency_mismatch")


def test_a_moved_booking_frees_its_old_slot_and_holds_the_new_one(
    client, write_headers, make_booking, chair
):
    booking = make_booking()
    post(client, write_headers, f"{booking['id']}/move", start_time="2030-01-07T15:00:00Z")
    assert make_booking(start_time=START)["start_time"] == START
    clash = client.post(
        URL,
        json={"resource_id": chair["id"], "start_time": "2030-01-07T15:30:00Z"},
        headers=write_headers,
    )
    assert booking["id"] in assert_error(clash, 422, "slot_conflict")["details"][0]["message"]


def test_a_move_outside_business_hours_is_accepted_and_marked(client, write_headers, make_resource):
    hours = {"mon": [["09:00", "17:00"]]}
    chair = make_resource(name="Chair 5", business_hours=hours)
    made = client.post(
        URL, json={"resource_id": chair["id"], "start_time": START}, headers=write_headers
    )
    assert made.json["meta"] == {"outside_business_hours": False}
    response = move(
        client, write_headers, made.json["data"]["id"], start_time="2030-01-07T16:30:00Z"
    )
    assert response.status_code == 200
    assert response.json["meta"] == {"outside_business_hours": True}


def test_a_create_outside_business_hours_is_accepted_and_marked(
    client, write_headers, make_resource
):
    chair = make_resource(name="Chair 6", business_hours={"mon": [["09:00", "17:00"]]})
    body = {"resource_id": chair["id"], "start_time": "2030-01-07T18:00:00Z"}
    response = client.post(URL, json=body, headers=write_headers)
    assert response.status_code == 201
    assert response.json["meta"] == {"outside_business_hours": True}


def test_replaying_moves_gives_the_stored_booking(client, db, write_headers, make_booking):
    booking = make_booking()
    for start in ("2030-01-07T12:00:00Z", "2030-01-07T13:00:00Z"):
        post(client, write_headers, f"{booking['id']}/move", start_time=start)
    state, anomalies = replay(store.booking_events(db, booking["id"]))
    assert anomalies == {}
    assert state == store.get_booking(db, booking["id"])
    assert state["start_time"] == parse_instant("2030-01-07T13:00:00Z")


# --- undo -------------------------------------------------------------------------------------


def latest_status_event(client, headers, booking_id: str) -> dict[str, Any]:
    return [e for e in events_of(client, headers, booking_id) if e["type"] == "status_changed"][-1]


@pytest.mark.parametrize(
    "status,back",
    [
        ("no_show", "confirmed"),
        ("checked_in", "confirmed"),
        ("completed", "checked_in"),
        ("cancelled", "pending"),
        ("confirmed", "pending"),
    ],
)
def test_undo_takes_the_latest_status_back_with_a_correction_event(
    client, write_headers, make_booking, status, back
):
    booking = make_booking(status)
    mistake = latest_status_event(client, write_headers, booking["id"])
    response = undo(client, write_headers, booking["id"], event_id=mistake["id"], reason="Oops")
    assert response.status_code == 200, response.json
    assert response.json["data"]["status"] == back
    assert response.json["data"]["cancel_reason"] is None
    history = events_of(client, write_headers, booking["id"])
    assert mistake in history  # the mistake stays in the history
    correction = history[-1]
    assert correction["type"] == "corrected"
    assert (correction["from_status"], correction["to_status"]) == (status, back)
    assert correction["data"] == {"undoes": mistake["id"], "reason": "Oops"}


def test_an_undone_cancellation_of_a_confirmed_booking_brings_back_confirmed(
    client, write_headers, make_booking
):
    booking = make_booking("confirmed")
    cancelled = post(client, write_headers, f"{booking['id']}/transition", status="cancelled")
    assert cancelled["status"] == "cancelled"
    mistake = latest_status_event(client, write_headers, booking["id"])
    restored = post(client, write_headers, f"{booking['id']}/undo", event_id=mistake["id"])
    assert restored["status"] == "confirmed"


def test_an_undo_cannot_be_undone_and_only_the_latest_change_can(
    client, db, write_headers, make_booking
):
    booking = make_booking("checked_in")
    confirm, check_in = [
        e for e in events_of(client, write_headers, booking["id"]) if e["type"] == "status_changed"
    ]
    with unchanged(db):
        response = undo(client, write_headers, booking["id"], event_id=confirm["id"])
    error = assert_error(response, 422, "invalid_correction")
    assert error["message"] == "Only the booking's latest status change can be undone, once."
    post(client, write_headers, f"{booking['id']}/undo", event_id=check_in["id"])
    correction = events_of(client, write_headers, booking["id"])[-1]
    for target in (check_in, correction):
        with unchanged(db):
            response = undo(client, write_headers, booking["id"], event_id=target["id"])
        assert_error(response, 422, "invalid_correction")


def test_undo_of_a_pending_booking_with_no_status_change_is_refused(
    client, db, write_headers, make_booking
):
    booking = make_booking()
    created = events_of(client, write_headers, booking["id"])[0]
    with unchanged(db):
        response = undo(client, write_headers, booking["id"], event_id=created["id"])
    assert_error(response, 422, "invalid_correction")


def test_undo_naming_an_event_of_another_booking_is_refused(
    client, db, write_headers, make_booking
):
    first = make_booking("no_show")
    second = make_booking("no_show", start_time="2030-01-07T15:00:00Z")
    theirs = latest_status_event(client, write_headers, second["id"])
    with unchanged(db):
        response = undo(client, write_headers, first["id"], event_id=theirs["id"])
    error = assert_error(response, 422, "invalid_correction")
    assert error["details"] == [{"field": "event_id", "message": "Not an event of this booking."}]


def test_undo_of_a_cancellation_whose_slot_was_taken_since_is_slot_conflict(
    client, db, write_headers, make_booking, make_customer
):
    booking = make_booking("cancelled")
    bo = make_customer(name="Bo")
    taken = make_booking(start_time="2030-01-07T10:30:00Z", customer_id=bo["id"])
    mistake = latest_status_event(client, write_headers, booking["id"])
    with unchanged(db):
        response = undo(client, write_headers, booking["id"], event_id=mistake["id"])
    error = assert_error(response, 422, "slot_conflict")
    assert error["message"].startswith(
        "Cannot undo the cancellation: since then, Chair 1 has been taken: it is booked from "
        "2030-01-07T10:30:00Z to 2030-01-07T11:30:00Z for Bo."
    )
    assert taken["id"] in error["details"][0]["message"]


def test_undo_of_an_old_status_change_is_refused(client, db, write_headers, make_booking):
    booking = make_booking("no_show")
    mistake = latest_status_event(client, write_headers, booking["id"])
    week_ago = wall_ms() - 8 * 86_400_000
    with store.transaction(db):
        db.execute(
            "UPDATE booking_events SET occurred_at = ? WHERE id = ?", [week_ago, mistake["id"]]
        )
    with unchanged(db):
        response = undo(client, write_headers, booking["id"], event_id=mistake["id"])
    assert "7 days" in assert_error(response, 422, "invalid_correction")["message"]


def test_a_sync_cancellation_cannot_be_undone(client, db, write_headers, make_booking):
    from sync import merge

    booking = make_booking("confirmed")
    with store.transaction(db):
        merge._cancel_for_conflict(db, store.get_booking(db, booking["id"]), "bk_winner")
    decision = latest_status_event(client, write_headers, booking["id"])
    with unchanged(db):
        response = undo(client, write_headers, booking["id"], event_id=decision["id"])
    assert "book the customer again" in assert_error(response, 422, "invalid_correction")["message"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "event_id"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "e", "why": "x"}, "why"),
        ({"event_id": "e", "reason": "x" * 1001}, "reason"),
    ],
)
def test_an_invalid_undo_body_is_422_and_changes_nothing(
    client, db, write_headers, make_booking, body, field
):
    booking = make_booking("no_show")
    with unchanged(db):
        response = undo(client, write_headers, booking["id"], **body)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


def test_undo_of_an_unknown_booking_is_404(client, db, write_headers):
    with unchanged(db):
        assert_error(undo(client, write_headers, "bk_nope", event_id="evt_x"), 404, "not_found")


def test_replaying_an_undo_gives_the_stored_booking(client, db, write_headers, make_booking):
    booking = make_booking("no_show")
    mistake = latest_status_event(client, write_headers, booking["id"])
    post(client, write_headers, f"{booking['id']}/undo", event_id=mistake["id"])
    post(client, write_headers, f"{booking['id']}/transition", status="checked_in")
    state, anomalies = replay(store.booking_events(db, booking["id"]))
    assert anomalies == {} and state == store.get_booking(db, booking["id"])
    assert state["status"] == "checked_in"
