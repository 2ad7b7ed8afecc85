"""Bookings (API.md §4) are event-sourced (SYNC.md §5).

A booking's state is the replay of its events in event (HLC) order through `step`, a total
function: every (status, event) pair either moves the booking or is recorded as an anomaly,
never an exception. Local writes append one event and store the state it leads to, which is
what a full replay gives, because a new local event always sorts last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from app import store
from app.core.ids import new_id
from app.core.times import format_instant, parse_instant, wall_ms
from app.domain import Precondition, availability, blockers
from app.domain import check as _check
from app.domain.errors import (
    InvalidState,
    InvalidTransition,
    SlotConflict,
    UnknownCustomer,
    UnknownResource,
)

STATUSES = ("pending", "confirmed", "checked_in", "completed", "cancelled", "no_show")
ACTIVE = ("pending", "confirmed", "checked_in")
EDITABLE = ("pending", "confirmed")
DELETABLE = ("pending", "cancelled")
ALLOWED_MOVES: dict[str, tuple[str, ...]] = {
    "pending": ("confirmed", "cancelled"),
    "confirmed": ("checked_in", "cancelled", "no_show"),
    "checked_in": ("completed",),
    "completed": (),
    "cancelled": (),
    "no_show": (),
}
EVENT_TYPES = ("created", "updated", "status_changed")
EDITABLE_FIELDS = ("title", "notes", "metadata")
RECENT_EVENTS = 20

Booking = dict[str, Any]
Event = dict[str, Any]


# --- the status machine (pure) -----------------------------------------------------------------


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
        reason = event["data"].get("cancel_reason") if target == "cancelled" else None
        moved = {**state, "status": target, "cancel_reason": reason}
        return {**moved, "updated_at": _later(state, event)}, None
    return state, f"Unknown event type {kind!r}."


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
        "status": "pending",
        "cancel_reason": None,
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


def moves_message(status: str) -> str:
    allowed = ALLOWED_MOVES[status]
    if not allowed:
        return f"A {status} booking cannot change status."
    return f"A {status} booking can only move to {', '.join(allowed)}."


# --- services ---------------------------------------------------------------------------------


def new_event(booking_id: str, kind: str, actor: str | None, **fields: Any) -> Event:
    return {
        "id": new_id("evt"),
        "booking_id": booking_id,
        "type": kind,
        "from_status": fields.get("from_status"),
        "to_status": fields.get("to_status"),
        "actor": actor,
        "data": fields.get("data", {}),
        "occurred_at": wall_ms(),
        "applied": True,
        "anomaly": None,
    }


@dataclass(frozen=True)
class NewBooking:
    """What a caller asks to book; instants in ms. `end`, else `duration_minutes`, else the
    resource's default length decides where it ends."""

    resource_id: str
    start: int
    end: int | None = None
    duration_minutes: int | None = None
    customer_id: str | None = None
    title: str | None = None
    notes: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def resolve_interval(new: NewBooking, resource: dict[str, Any]) -> tuple[int, int]:
    """[start, end) in ms: end, else duration_minutes, else the resource's default."""
    if new.end is not None:
        return new.start, new.end
    minutes = new.duration_minutes or resource["default_duration_minutes"]
    return new.start, new.start + minutes * 60_000


def find_clash(
    db: Database, resource: dict[str, Any], start: int, end: int, ignore: str | None = None
) -> str | None:
    """The id of an active booking or blocker that [start, end) plus the buffer would overlap."""
    buffer = resource["buffer_minutes"] * 60_000
    held = availability.Interval(start, end + buffer, "")
    busy = store.active_bookings_between(db, resource["id"], start - buffer, end + buffer)
    for booking in busy:
        if booking["id"] != ignore and availability.overlaps(
            held, availability.Interval(booking["start_time"], booking["end_time"] + buffer, "")
        ):
            return booking["id"]
    for occurrence in blockers.occurrences_for_resource(db, resource, held.start, held.end):
        return occurrence.owner
    return None


def ensure_free(db: Database, resource: dict[str, Any], start: int, end: int) -> None:
    """Raise SlotConflict, naming the clashing booking or blocker, unless [start, end) is free."""
    clash = find_clash(db, resource, start, end)
    if clash is not None:
        raise SlotConflict(
            f"{resource['name']} is not free from {format_instant(start)} to "
            f"{format_instant(end)}.",
            details=[{"field": "start_time", "message": f"Overlaps {clash}."}],
        )


def conflicts(db: Database, booking: Booking) -> list[str]:
    """Ids of active bookings overlapping this active one on its resource.

    Local writes refuse overlaps, so only sync makes them: two nodes booked the slot offline.
    The list shows the clash until the hub's cancellation arrives (SYNC.md §5).
    """
    if booking["status"] not in ACTIVE:
        return []
    return [clash["id"] for clash in store.overlapping_active(db, booking)]


def create(db: Database, new: NewBooking, *, actor: str | None) -> Booking:
    """Create a pending booking and its `created` event, atomically with the overlap check.

    Raises UnknownResource, UnknownCustomer, SlotConflict (details name the clashing id). The
    new booking overlaps nothing: the check just passed.
    """
    booking_id = new_id("bk")
    with store.transaction(db):
        resource = store.get_resource(db, new.resource_id, missing=UnknownResource)
        if new.customer_id is not None:
            store.get_customer(db, new.customer_id, missing=UnknownCustomer)
        start, end = resolve_interval(new, resource)
        ensure_free(db, resource, start, end)
        data = {
            "resource_id": resource["id"],
            "customer_id": new.customer_id,
            "start_time": format_instant(start),
            "end_time": format_instant(end),
            "title": new.title,
            "notes": new.notes,
            "metadata": new.metadata,
        }
        event = new_event(booking_id, "created", actor, to_status="pending", data=data)
        booking, _ = step(None, event)
        assert booking is not None
        store.insert_booking(db, booking, event)
    return booking


def get(db: Database, booking_id: str) -> Booking:
    """The booking's row. Raises store.RowMissing."""
    return store.get_booking(db, booking_id)


def recent_events(db: Database, booking_id: str) -> list[Event]:
    """The booking's 20 most recent events, oldest first."""
    return store.recent_booking_events(db, booking_id, RECENT_EVENTS)


def update(
    db: Database,
    booking_id: str,
    sent: dict[str, Any],
    *,
    actor: str | None,
    precondition: Precondition = None,
) -> Booking:
    """Edit title, notes or metadata while pending or confirmed; records an `updated` event."""
    with store.transaction(db):
        _check(precondition)
        booking = store.get_booking(db, booking_id)
        if booking["status"] not in EDITABLE:
            raise InvalidState(
                f"A {booking['status']} booking cannot be edited; only pending or confirmed ones."
            )
        changed = {
            name: {"from": booking[name], "to": value}
            for name, value in sent.items()
            if booking[name] != value
        }
        if changed:
            event = new_event(booking_id, "updated", actor, data={"changed": changed})
            booking = _apply(db, booking, event)
    return booking


def transition(
    db: Database,
    booking_id: str,
    status: str,
    *,
    cancel_reason: str | None = None,
    actor: str | None,
    precondition: Precondition = None,
) -> Booking:
    """Move the booking to `status`; raises InvalidTransition naming the allowed moves."""
    with store.transaction(db):
        _check(precondition)
        booking = store.get_booking(db, booking_id)
        current = booking["status"]
        if status not in ALLOWED_MOVES[current]:
            raise InvalidTransition(
                moves_message(current),
                details=[{"field": "status", "message": f"Cannot go from {current} to {status}."}],
            )
        data = {"cancel_reason": cancel_reason} if status == "cancelled" else {}
        event = new_event(
            booking_id, "status_changed", actor, from_status=current, to_status=status, data=data
        )
        booking = _apply(db, booking, event)
    return booking


def _apply(db: Database, booking: Booking, event: Event) -> Booking:
    after, anomaly = step(booking, event)
    assert anomaly is None and after is not None, anomaly  # the caller checked the rule
    store.append_booking_event(db, after, event)
    return after


def delete(db: Database, booking_id: str, *, precondition: Precondition = None) -> Booking:
    """Remove a pending or cancelled booking and its events (a tombstone for sync)."""
    with store.transaction(db):
        _check(precondition)
        booking = store.get_booking(db, booking_id)
        if booking["status"] not in DELETABLE:
            raise InvalidState(
                f"A {booking['status']} booking cannot be deleted; only pending or cancelled "
                "ones. Cancel it first, or keep it for the record."
            )
        store.delete_booking(db, booking_id)
    return booking


# Up to `limit` bookings by start_time then id, after the key `after`, filtered: no rule
# applies to listing, so it is storage's query itself.
find = store.list_bookings


def events(db: Database, booking_id: str, *, after_hlc: str | None, limit: int) -> list[Event]:
    """Up to `limit` of a booking's events in event order after `after_hlc`. Raises
    store.RowMissing for an unknown booking."""
    store.get_booking(db, booking_id)
    return store.booking_events(db, booking_id, after_hlc=after_hlc, limit=limit)
