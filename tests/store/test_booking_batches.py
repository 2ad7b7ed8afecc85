"""A page of bookings at once (app/store/booking_batches.py): each batch function leaves the
tables exactly as its one-booking counterpart in app/store/bookings.py does."""

from __future__ import annotations

import pytest

from app import store
from tests.store import records

HOUR = 3_600_000


def _book(db, resource_id, start, end, **overrides):
    booking = records.booking(resource_id, start, end, **overrides)
    with store.transaction(db):
        store.insert_booking(db, booking, records.event(booking["id"]))
    return booking


def _remote(booking_id: str, **overrides):
    return {
        **records.event(booking_id, **{"data": {"note": "x"}, **overrides}),
        "node_id": "node-b",
    }


def test_events_from_elsewhere_are_kept_in_one_batch_and_read_back_as_returned(db):
    first, second = _remote("bk_one"), _remote("bk_two", data={})
    with store.transaction(db):
        returned = store.insert_remote_events(
            db, [(first, "0001-0000-node-b"), (second, "0002-0000-node-b")]
        )
    held = store.events_of_bookings(db, ["bk_one", "bk_two", "bk_none"])
    assert held == {"bk_one": [returned[0]], "bk_two": [returned[1]]}
    assert held["bk_one"] == store.booking_events(db, "bk_one")
    assert returned[0]["data"] == {"note": "x"} and returned[1]["data"] == {}


def test_an_event_sent_twice_in_a_batch_keeps_the_lower_stamp(db):
    event = _remote("bk_twice")
    with store.transaction(db):
        store.insert_remote_events(
            db,
            [(event, "0002-0000-node-c"), (event, "0001-0000-node-b"), (event, "0003-0000-x")],
        )
    (stored,) = store.booking_events(db, "bk_twice")
    assert stored["hlc"] == "0001-0000-node-b"


def test_replayed_bookings_are_written_and_their_events_marked_at_once(db, resource_id):
    kept = _book(db, resource_id, 0, HOUR)
    gone = _book(db, resource_id, 2 * HOUR, 3 * HOUR)
    history = store.events_of_bookings(db, [kept["id"], gone["id"]])
    (skipped,) = history[gone["id"]]
    state = {**kept, "status": "confirmed"}
    with store.transaction(db):
        store.save_replayed_bookings(
            db,
            [
                (kept["id"], state, {}, history[kept["id"]]),
                (gone["id"], None, {skipped["id"]: "why"}, history[gone["id"]]),
            ],
        )
    assert store.get_booking(db, kept["id"]) == state
    with pytest.raises(store.RowMissing):
        store.get_booking(db, gone["id"])
    (unapplied,) = store.unapplied_events(db)
    assert (unapplied["id"], unapplied["applied"], unapplied["anomaly"]) == (
        skipped["id"],
        False,
        "why",
    )


def test_only_touched_active_bookings_with_an_overlapping_active_rival_are_named(db, resource_id):
    other = records.resource()
    with store.transaction(db):
        store.insert_resource(db, other)
    first = _book(db, resource_id, 0, HOUR)
    rival = _book(db, resource_id, HOUR // 2, 2 * HOUR)
    alone = _book(db, resource_id, 2 * HOUR, 3 * HOUR)  # touches the rival's end only
    cancelled = _book(db, resource_id, 0, HOUR, status="cancelled")
    elsewhere = _book(db, other["id"], 0, HOUR)
    touched = [first["id"], alone["id"], cancelled["id"], elsewhere["id"], "bk_unknown"]
    assert store.bookings_with_rivals(db, touched) == {first["id"]}
    assert store.bookings_with_rivals(db, [rival["id"]]) == {rival["id"]}


def test_tombstoned_records_are_found_among_many(db, resource_id):
    deleted = _book(db, resource_id, 0, HOUR)
    with store.transaction(db):
        store.delete_booking(db, deleted["id"])
    ids = [deleted["id"], *(f"bk_{n}" for n in range(1200))]  # more than one IN (...) chunk
    assert store.tombstoned_among(db, "booking", ids) == {deleted["id"]}
    assert store.tombstoned_among(db, "customer", ids) == set()
