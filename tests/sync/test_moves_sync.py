"""Moves, undos and services made offline converge (SYNC.md §5), told as stories: two laptops
and a hub, in-process. The random version is the state machine in test_convergence.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app import store
from tests.sync.harness import (
    BOOKINGS,
    RESOURCES,
    SERVICES,
    Replica,
    SteppedClock,
    anomalies,
    expect,
    exported_state,
    settle,
)

DAY = "2030-01-07"


@pytest.fixture
def shops(tmp_path, monkeypatch):
    clock = SteppedClock(monkeypatch)
    hub, a, b = (Replica(tmp_path, name) for name in ("hub", "a", "b"))
    a.connect(hub)
    b.connect(hub)
    chairs = [expect(a, "POST", RESOURCES, {"name": f"Chair {n}"}, 201) for n in (1, 2)]
    settle([a, b])
    yield SimpleNamespace(hub=hub, a=a, b=b, everyone=[hub, a, b], chairs=chairs, clock=clock)
    for replica in (hub, a, b):
        replica.close()
    store.close_thread_connections()


def book(node: Replica, chair: dict, start: str, status: str | None = None) -> dict:
    body = {"resource_id": chair["id"], "start_time": f"{DAY}T{start}:00Z", "duration_minutes": 60}
    made = expect(node, "POST", BOOKINGS, body, 201)
    if status is not None:
        made = expect(node, "POST", f"{BOOKINGS}/{made['id']}/transition", {"status": status})
    return made


def move(node: Replica, booking: dict, start: str, chair: dict | None = None) -> dict:
    body = {"start_time": f"{DAY}T{start}:00Z"}
    if chair is not None:
        body["resource_id"] = chair["id"]
    return expect(node, "POST", f"{BOOKINGS}/{booking['id']}/move", body)


def seen(replica: Replica, booking: dict) -> dict:
    return expect(replica, "GET", f"{BOOKINGS}/{booking['id']}")


def assert_identical(shops) -> None:
    assert exported_state(shops.a) == exported_state(shops.hub)
    assert exported_state(shops.b) == exported_state(shops.hub)
    assert anomalies(shops.a) == anomalies(shops.b) == anomalies(shops.hub)


def test_two_laptops_moving_one_booking_offline_end_with_the_later_move_everywhere(shops):
    booking = book(shops.a, shops.chairs[0], "10:00")
    settle([shops.a, shops.b])
    shops.clock.at(1_000)
    move(shops.b, booking, "15:00", shops.chairs[1])
    shops.clock.at(2_000)
    move(shops.a, booking, "12:00")
    for first in (shops.a, shops.b):  # whoever syncs first, the result is the same
        first.sync()
    settle([shops.a, shops.b])
    for replica in shops.everyone:
        data = seen(replica, booking)
        assert (data["resource_id"], data["start_time"]) == (
            shops.chairs[0]["id"],
            f"{DAY}T12:00:00Z",
        )
        moves = [e for e in data["events"] if e["type"] == "moved"]
        assert [m["data"]["to"]["start_time"] for m in moves] == [
            f"{DAY}T15:00:00Z",
            f"{DAY}T12:00:00Z",
        ]
        assert all(m["applied"] for m in moves)
    assert_identical(shops)


@pytest.mark.parametrize("push_first", ["mover", "booker"])
@pytest.mark.parametrize("move_first", [True, False])
def test_a_move_into_a_slot_booked_offline_elsewhere_is_settled_by_the_earlier_claim(
    shops, push_first, move_first
):
    moving = book(shops.a, shops.chairs[0], "10:00", "confirmed")
    settle([shops.a, shops.b])
    shops.clock.at(1_000 if move_first else 2_000)
    move(shops.a, moving, "14:00")
    shops.clock.at(2_000 if move_first else 1_000)
    there = book(shops.b, shops.chairs[0], "14:30")
    order = [shops.a, shops.b] if push_first == "mover" else [shops.b, shops.a]
    for node in order:
        node.sync()
    settle([shops.a, shops.b])
    winner, loser = (moving, there) if move_first else (there, moving)
    for replica in shops.everyone:
        kept, lost = seen(replica, winner), seen(replica, loser)
        assert kept["status"] in ("pending", "confirmed") and kept["conflict_with"] == []
        assert lost["status"] == "cancelled"
        assert lost["cancel_reason"] == f"sync_conflict: overlaps {winner['id']}"
    assert seen(shops.hub, moving)["start_time"] == f"{DAY}T14:00:00Z"
    assert_identical(shops)


def test_a_move_of_a_booking_cancelled_offline_elsewhere_is_a_visible_anomaly(shops):
    booking = book(shops.a, shops.chairs[0], "10:00")
    settle([shops.a, shops.b])
    shops.clock.at(1_000)
    expect(shops.a, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "cancelled"})
    shops.clock.at(2_000)
    move(shops.b, booking, "16:00")
    settle([shops.b, shops.a])
    for replica in shops.everyone:
        data = seen(replica, booking)
        assert data["status"] == "cancelled" and data["start_time"] == f"{DAY}T10:00:00Z"
        (listed,) = anomalies(replica)
        assert listed["kind"] == "invalid_event" and listed["booking_id"] == booking["id"]
        assert (
            listed["message"]
            == "A cancelled booking cannot be moved; only pending or confirmed ones."
        )
        moved = [e for e in data["events"] if e["type"] == "moved"]
        assert [e["applied"] for e in moved] == [False]
    assert_identical(shops)


def test_an_undo_offline_that_revives_a_booking_loses_to_a_booking_made_before_it(shops):
    booking = book(shops.a, shops.chairs[0], "10:00", "confirmed")
    settle([shops.a, shops.b])
    cancelled = expect(
        shops.a, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "cancelled"}
    )
    assert cancelled["status"] == "cancelled"
    settle([shops.a, shops.b])
    shops.clock.at(1_000)
    rival = book(shops.b, shops.chairs[0], "10:30")  # the slot looked free on b
    shops.clock.at(2_000)
    mistake = [e for e in seen(shops.a, booking)["events"] if e["type"] == "status_changed"][-1]
    revived = expect(
        shops.a, "POST", f"{BOOKINGS}/{booking['id']}/undo", {"event_id": mistake["id"]}
    )
    assert revived["status"] == "confirmed"
    settle([shops.a, shops.b])
    for replica in shops.everyone:
        assert seen(replica, rival)["status"] == "pending"
        lost = seen(replica, booking)
        assert lost["status"] == "cancelled"
        assert lost["cancel_reason"] == f"sync_conflict: overlaps {rival['id']}"
        assert [e["type"] for e in lost["events"]][-2:] == ["corrected", "status_changed"]
    assert_identical(shops)


def test_the_same_no_show_undone_on_both_laptops_is_undone_once_and_listed(shops):
    booking = book(shops.a, shops.chairs[0], "10:00", "confirmed")
    expect(shops.a, "POST", f"{BOOKINGS}/{booking['id']}/transition", {"status": "no_show"})
    settle([shops.a, shops.b])
    mistake = [e for e in seen(shops.a, booking)["events"] if e["type"] == "status_changed"][-1]
    for number, node in enumerate((shops.a, shops.b)):
        shops.clock.at(1_000 * (number + 1))
        expect(node, "POST", f"{BOOKINGS}/{booking['id']}/undo", {"event_id": mistake["id"]})
    settle([shops.a, shops.b])
    for replica in shops.everyone:
        data = seen(replica, booking)
        assert data["status"] == "confirmed"
        undos = [e for e in data["events"] if e["type"] == "corrected"]
        assert [e["applied"] for e in undos] == [True, False]
        assert [a["kind"] for a in anomalies(replica)] == ["invalid_event"]
    assert_identical(shops)


def test_services_sync_per_field_and_a_delete_wins(shops):
    trim = expect(
        shops.a,
        "POST",
        SERVICES,
        {"name": "Trim", "duration_minutes": 30, "price_minor": 2500, "currency": "EUR"},
        201,
    )
    settle([shops.a, shops.b])
    shops.clock.at(1_000)
    expect(shops.a, "PATCH", f"{SERVICES}/{trim['id']}", {"price_minor": 3000})
    shops.clock.at(2_000)
    expect(shops.b, "PATCH", f"{SERVICES}/{trim['id']}", {"name": "Short trim"})
    settle([shops.a, shops.b])
    for replica in shops.everyone:
        data = expect(replica, "GET", f"{SERVICES}/{trim['id']}")
        assert (data["name"], data["price_minor"]) == ("Short trim", 3000)
    made = expect(
        shops.b,
        "POST",
        BOOKINGS,
        {
            "resource_id": shops.chairs[0]["id"],
            "start_time": f"{DAY}T09:00:00Z",
            "service_id": trim["id"],
        },
        201,
    )
    shops.clock.at(3_000)
    expect(shops.a, "DELETE", f"{SERVICES}/{trim['id']}")
    shops.clock.at(4_000)
    expect(shops.b, "PATCH", f"{SERVICES}/{trim['id']}", {"price_minor": 1})
    settle([shops.a, shops.b])
    for replica in shops.everyone:
        assert replica.call("GET", f"{SERVICES}/{trim['id']}").status_code == 404
        assert seen(replica, made)["price_minor"] == 3000
    assert_identical(shops)
