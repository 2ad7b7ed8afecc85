"""Bookings and their events: stored with their change, found by time window, merged from
elsewhere exactly once."""

from __future__ import annotations

import pytest

from app import store
from app.store import changelog
from tests.store import records

HOUR = 3_600_000


def _book(db, resource_id, start, end, **overrides):
    booking = records.booking(resource_id, start, end, **overrides)
    event = records.event(booking["id"])
    with store.transaction(db):
        store.insert_booking(db, booking, event)
    return booking, event


def test_a_booking_is_stored_with_its_created_event_and_one_change(db, resource_id):
    booking, event = _book(db, resource_id, 0, HOUR, metadata={"room": 1})
    assert store.get_booking(db, booking["id"]) == booking
    (stored,) = store.booking_events(db, booking["id"])
    assert stored["id"] == event["id"] and stored["applied"] is True
    assert stored["node_id"] == store.node_id(db) and stored["hlc"] == event["hlc"]
    last = changelog.own_pending(db, 1, 10)  # the resource's change came first
    assert [(c["entity"], c["entity_id"], c["op"]) for c in last] == [
        ("booking_event", event["id"], "event")
    ]
    assert "hlc" not in last[0]["payload"] and last[0]["payload"]["node_id"] == store.node_id(db)


def test_a_new_event_sorts_after_the_bookings_others_and_moves_its_state(db, resource_id):
    booking, created = _book(db, resource_id, 0, HOUR)
    confirmed = records.event(booking["id"], "status_changed", from_status="pending")
    with store.transaction(db):
        store.append_booking_event(db, {**booking, "status": "confirmed"}, confirmed)
    events = store.booking_events(db, booking["id"])
    assert [e["id"] for e in events] == [created["id"], confirmed["id"]]
    assert store.booking_events(db, booking["id"], after_hlc=created["hlc"], limit=5) == events[1:]
    assert store.recent_booking_events(db, booking["id"], 1) == events[1:]
    assert store.get_booking(db, booking["id"])["status"] == "confirmed"


def test_window_queries_find_the_active_bookings_that_overlap(db, resource_id):
    early, _ = _book(db, resource_id, 0, HOUR)
    late, _ = _book(db, resource_id, 2 * HOUR, 3 * HOUR)
    _book(db, resource_id, 4 * HOUR, 5 * HOUR, status="cancelled")
    between = store.active_bookings_between(db, resource_id, HOUR // 2, 2 * HOUR + 1)
    assert sorted(b["id"] for b in between) == sorted([early["id"], late["id"]])
    assert [b["id"] for b in store.active_bookings_from(db, resource_id, HOUR)] == [late["id"]]
    assert store.has_future_active_bookings(db, resource_id, 2 * HOUR + 1)
    assert not store.has_future_active_bookings(db, resource_id, 3 * HOUR)
    overlapping = store.overlapping_active(db, {**early, "end_time": 3 * HOUR})
    assert [b["id"] for b in overlapping] == [late["id"]]


def test_bookings_list_by_start_then_id_with_filters(db, resource_id):
    first, _ = _book(db, resource_id, 0, HOUR)
    second, _ = _book(db, resource_id, HOUR, 2 * HOUR, status="confirmed")

    def found(**filters):
        rows = store.list_bookings(db, after=None, limit=10, **filters)
        return [row["id"] for row in rows]

    assert found() == [first["id"], second["id"]]
    assert found(statuses=["confirmed"]) == [second["id"]]
    assert found(start=HOUR, end=2 * HOUR) == [second["id"]]
    assert found(resource_id="res_other") == []
    after = store.list_bookings(db, after=(0, first["id"]), limit=10)
    assert [row["id"] for row in after] == [second["id"]]


def test_a_deleted_booking_takes_its_events_and_leaves_a_tombstone(db, resource_id):
    booking, _ = _book(db, resource_id, 0, HOUR)
    with store.transaction(db):
        store.delete_booking(db, booking["id"])
    with pytest.raises(store.RowMissing):
        store.get_booking(db, booking["id"])
    assert store.booking_events(db, booking["id"]) == []
    assert store.is_tombstoned(db, "booking", booking["id"])


def test_an_event_from_elsewhere_is_kept_once(db):
    event = {**records.event("bk_remote"), "node_id": "node-b"}
    with store.transaction(db):
        assert store.insert_remote_event(db, event, "0001-0000-node-b") is True
        assert store.insert_remote_event(db, event, "0001-0000-node-b") is False
    (stored,) = store.booking_events(db, "bk_remote")
    assert stored["hlc"] == "0001-0000-node-b" and stored["node_id"] == "node-b"
    assert store.has_event_stamped_between(db, "bk_remote", "0000", "0002")


def test_an_event_held_under_two_stamps_keeps_the_lower_one(db):
    """A copied laptop re-issues an event the original also sends: every replica keeps the
    lower stamp, whichever arrives first."""
    event = {**records.event("bk_twice"), "node_id": "node-b"}
    with store.transaction(db):
        assert store.insert_remote_event(db, event, "0002-0000-node-c") is True
        assert store.insert_remote_event(db, event, "0001-0000-node-b") is True
        assert store.insert_remote_event(db, event, "0003-0000-node-d") is False
    (stored,) = store.booking_events(db, "bk_twice")
    assert stored["hlc"] == "0001-0000-node-b" and stored["node_id"] == "node-b"


def test_a_replay_stores_the_state_and_marks_the_events_it_skipped(db, resource_id):
    booking, event = _book(db, resource_id, 0, HOUR)
    state = {**booking, "status": "confirmed"}
    with store.transaction(db):
        store.save_replayed_booking(db, booking["id"], state, {event["id"]: "why"})
    assert store.get_booking(db, booking["id"])["status"] == "confirmed"
    (skipped,) = store.unapplied_events(db)
    assert (skipped["id"], skipped["applied"], skipped["anomaly"]) == (event["id"], False, "why")
    with store.transaction(db):
        store.save_replayed_booking(db, booking["id"], None, {})
    with pytest.raises(store.RowMissing):
        store.get_booking(db, booking["id"])
    assert store.unapplied_events(db) == []


def test_an_anomaly_is_kept_once(db):
    anomaly = {
        "id": "anm_1",
        "kind": "double_booking",
        "booking_id": "bk_1",
        "other_booking_id": "bk_2",
        "message": "two nodes booked the slot",
        "hlc": "0001",
    }
    with store.transaction(db):
        assert store.insert_anomaly(db, anomaly) is True
        assert store.insert_anomaly(db, anomaly) is False
    assert store.anomaly_records(db) == [anomaly]
