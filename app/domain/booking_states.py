"""A booking's states: the status machine, and a booking replayed from its events (pure).

A booking's state is the replay of its events in event (HLC) order through `step`, a total
function: every (status, event) pair either moves the booking or is recorded as an anomaly,
never an exception. app/domain/bookings.py writes the events; sync replays them
(sync/merge.py), and both get the same state from the same events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.core.times import parse_instant
from app.core.vocabulary import (
    ACTIVE_STATUSES,
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    CONFIRMED,
    NO_SHOW,
    PENDING,
    STATUSES,
)

Booking = dict[str, Any]
Event = dict[str, Any]

EDITABLE = (PENDING, CONFIRMED)
DELETABLE = (PENDING, CANCELLED)
# The status machine (API.md §4): the statuses each status may move to.
ALLOWED_MOVES: dict[str, tuple[str, ...]] = {
    PENDING: (CONFIRMED, CANCELLED),
    CONFIRMED: (CHECKED_IN, CANCELLED, NO_SHOW),
    CHECKED_IN: (COMPLETED,),
    COMPLETED: (),
    CANCELLED: (),
    NO_SHOW: (),
}
# Undoing a status goes back one seed move: to a status from which that status is reachable.
UNDO_TARGETS: dict[str, tuple[str, ...]] = {
    status: tuple(before for before, after in ALLOWED_MOVES.items() if status in after)
    for status in STATUSES
}
# `moved` changes a booking's resource or time; `corrected` undoes its last status change.
MOVED, CORRECTED = "moved", "corrected"


def step(state: Booking | None, event: Event) -> tuple[Booking | None, str | None]:
    """The booking after `event`, and None — or the unchanged booking and why it can't apply."""
    kind = event["type"]
    if kind == "created":
        if state is not None:
            return state, "The booking was already created."
        return _created(event), None
    if state is None:
        return None, "The booking does not exist (it was never created or has been deleted)."
    status = state["status"]
    if kind == "updated":
        if status not in EDITABLE:
            return state, f"A {status} booking cannot be edited."
        changes = {name: change["to"] for name, change in event["data"]["changed"].items()}
        return {**state, **changes, "updated_at": _later(state, event)}, None
    if kind == "status_changed":
        target = event["to_status"]
        if target not in ALLOWED_MOVES.get(status, ()):
            return state, f"A {status} booking cannot become {target}."
        reason = event["data"].get("cancel_reason") if target == CANCELLED else None
        moved = {**state, "status": target, "cancel_reason": reason}
        return {**moved, "updated_at": _later(state, event)}, None
    if kind == MOVED:
        return _moved(state, event)
    if kind == CORRECTED:
        return _corrected(state, event)
    return state, f"Unknown event type {kind!r}."


def _moved(state: Booking, event: Event) -> tuple[Booking, str | None]:
    status = state["status"]
    if status not in EDITABLE:
        return state, f"A {status} booking cannot be moved; only pending or confirmed ones."
    slot = slot_of(event["data"].get("to"))
    if slot is None:
        return state, "The move names no valid resource and time."
    resource_id, start, end = slot
    moved = {**state, "resource_id": resource_id, "start_time": start, "end_time": end}
    return {**moved, "updated_at": _later(state, event)}, None


def slot_of(data: Any) -> tuple[str, int, int] | None:
    """(resource_id, start, end) of a move's `from` or `to`; None if it is not one (a change
    from another node is never refused, so a malformed one becomes an anomaly, not an error)."""
    try:
        slot = (
            str(data["resource_id"]),
            parse_instant(data["start_time"]),
            parse_instant(data["end_time"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return slot if slot[1] < slot[2] else None


def _corrected(state: Booking, event: Event) -> tuple[Booking, str | None]:
    status, undone, restored = state["status"], event["from_status"], event["to_status"]
    if status != undone:
        return state, f"The {undone} status to undo is gone: the booking is {status} by now."
    if restored not in UNDO_TARGETS.get(undone, ()):
        return state, f"A {undone} booking cannot go back to {restored}."
    corrected = {**state, "status": restored, "cancel_reason": None}
    return {**corrected, "updated_at": _later(state, event)}, None


def _created(event: Event) -> Booking:
    data = event["data"]
    return {
        "id": event["booking_id"],
        "resource_id": data["resource_id"],
        "customer_id": data.get("customer_id"),
        "start_time": parse_instant(data["start_time"]),
        "end_time": parse_instant(data["end_time"]),
        "title": data.get("title"),
        "notes": data.get("notes"),
        "metadata": data.get("metadata") or {},
        "service_id": data.get("service_id"),
        "price_minor": data.get("price_minor"),
        "currency": data.get("currency"),
        "buffer_minutes": data.get("buffer_minutes") or 0,
        "status": PENDING,
        "cancel_reason": None,
        "external_id": data.get("external_id"),
        "created_at": event["occurred_at"],
        "updated_at": event["occurred_at"],
    }


def _later(state: Booking, event: Event) -> int:
    return max(state["updated_at"], event["occurred_at"])


def replay(events: Iterable[Event]) -> tuple[Booking | None, dict[str, str]]:
    """Fold events in HLC order; return the state and {event id: anomaly} for those that failed."""
    state: Booking | None = None
    anomalies: dict[str, str] = {}
    for event in sorted(events, key=lambda e: (e["hlc"], e["id"])):
        state, anomaly = step(state, event)
        if anomaly is not None:
            anomalies[event["id"]] = anomaly
    return state, anomalies


def slot_claim(events: Iterable[Event]) -> str:
    """The stamp of the event that gave the booking its current slot: its creation, its last
    move, or the correction that made it active again, whichever came last in event order.

    When sync leaves two bookings overlapping, the earlier claim keeps the slot (SYNC.md §5):
    a move into a slot another node booked offline is a double booking like any other.
    """
    state: Booking | None = None
    claim = ""
    for event in sorted(events, key=lambda e: (e["hlc"], e["id"])):
        before = state
        state, anomaly = step(state, event)
        if anomaly is not None or state is None:
            continue
        revived = before is not None and before["status"] not in ACTIVE_STATUSES
        if event["type"] in ("created", MOVED) or (revived and state["status"] in ACTIVE_STATUSES):
            claim = event["hlc"]
    return claim


def moves_message(status: str) -> str:
    allowed = ALLOWED_MOVES[status]
    if not allowed:
        return f"A {status} booking cannot change status."
    return f"A {status} booking can only move to {', '.join(allowed)}."
