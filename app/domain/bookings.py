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

from app import store
from app.core.ids import new_id
from app.core.times import format_instant, parse_instant, wall_ms
from app.core.vocabulary import (
    ACTIVE_STATUSES,
    CANCELLED,
    CHECKED_IN,
    COMPLETED,
    CONFIRMED,
    MINUTE_MS,
    NO_SHOW,
    PENDING,
    STATUSES,
)
from app.domain import Precondition, clashes, messages, services
from app.domain import check as _check
from app.domain.errors import (
    InvalidState,
    InvalidTransition,
    UnknownCustomer,
    UnknownResource,
)
from app.store import Connection

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
# `moved` changes a booking's resource or time; an outbox of reminders (or anything keyed to a
# booking's start) reschedules on it, and on a `corrected` event that makes a booking active
# again (see `changes_slot`).
MOVED, CORRECTED = "moved", "corrected"
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


def changes_slot(event: Event) -> bool:
    """Whether an applied event gives its booking a new time or place to be at: a move, or an
    undo that makes a cancelled or no-show booking active again. Reminders key off this."""
    if event["type"] == MOVED:
        return True
    return event["type"] == CORRECTED and event["from_status"] in (CANCELLED, NO_SHOW)


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
    service_id: str | None = None
    title: str | None = None
    notes: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def resolve_interval(
    new: NewBooking, resource: dict[str, Any], service: dict[str, Any] | None = None
) -> tuple[int, int]:
    """[start, end) in ms: end, else duration_minutes, else the service's length, else the
    resource's default."""
    if new.end is not None:
        return new.start, new.end
    minutes = new.duration_minutes or (service or {}).get("duration_minutes")
    minutes = minutes or resource["default_duration_minutes"]
    return new.start, new.start + minutes * MINUTE_MS


def ensure_free(
    db: Connection, resource: dict[str, Any], start: int, end: int, buffer_minutes: int = 0
) -> None:
    """Raise SlotConflict, saying what is in the way, unless [start, end) is free."""
    clashes.ensure_free(db, resource, start, end, buffer_minutes=buffer_minutes)


def conflicts(db: Connection, booking: Booking) -> list[str]:
    """Ids of active bookings overlapping this active one on its resource.

    Local writes refuse overlaps, so only sync makes them: two nodes booked the slot offline.
    The list shows the clash until the hub's cancellation arrives (SYNC.md §5).
    """
    if booking["status"] not in ACTIVE_STATUSES:
        return []
    return [clash["id"] for clash in store.overlapping_active(db, booking)]


def create(db: Connection, new: NewBooking, *, actor: str | None) -> Booking:
    """Create a pending booking and its `created` event, atomically with the overlap check.

    Raises UnknownResource, UnknownCustomer, UnknownService, ServiceNotOffered, SlotConflict
    (details name the clashing id). The new booking overlaps nothing: the check just passed.
    """
    with store.transaction(db):
        return create_in_transaction(db, new, actor=actor)


def create_noting_hours(
    db: Connection, new: NewBooking, *, actor: str | None
) -> tuple[Booking, bool]:
    """create(), and whether the booking lies outside its resource's business hours (the API
    accepts such a booking, as the seeds do, but says so), from the resource create() read."""
    with store.transaction(db):
        booking, resource = _insert_new(db, new, actor, external_id=None, quiet=False)
    return booking, clashes.outside_business_hours(
        resource, booking["start_time"], booking["end_time"]
    )


def create_in_transaction(
    db: Connection,
    new: NewBooking,
    *,
    actor: str | None,
    external_id: str | None = None,
    quiet: bool = False,
) -> Booking:
    """create() inside the caller's transaction (an import makes many bookings in one).

    `external_id` is the booking's id in the system it was imported from; `quiet` decides no
    confirmation message (the customer already knows of an imported booking).
    """
    return _insert_new(db, new, actor, external_id=external_id, quiet=quiet)[0]


def _insert_new(
    db: Connection, new: NewBooking, actor: str | None, *, external_id: str | None, quiet: bool
) -> tuple[Booking, dict[str, Any]]:
    """The new booking, and the resource it was checked against."""
    booking_id = new_id("bk")
    resource = store.get_resource(db, new.resource_id, missing=UnknownResource)
    if new.customer_id is not None:
        store.get_customer(db, new.customer_id, missing=UnknownCustomer)
    service = services.offered(db, new.service_id, resource)
    start, end = resolve_interval(new, resource, service)
    ensure_free(db, resource, start, end, service["buffer_minutes"] if service else 0)
    data = {
        "resource_id": resource["id"],
        "customer_id": new.customer_id,
        "start_time": format_instant(start),
        "end_time": format_instant(end),
        "title": new.title,
        "notes": new.notes,
        "metadata": new.metadata,
        **services.taken_by_booking(service),
    }
    if external_id is not None:  # absent otherwise: older nodes replay the same events
        data["external_id"] = external_id
    event = new_event(booking_id, "created", actor, to_status=PENDING, data=data)
    booking, _ = step(None, event)
    assert booking is not None
    store.insert_booking(db, booking, event)
    messages.booking_changed(db, None, booking, quiet=quiet)
    return booking, resource


def get(db: Connection, booking_id: str) -> Booking:
    """The booking's row. Raises store.RowMissing."""
    return store.get_booking(db, booking_id)


def recent_events(db: Connection, booking_id: str) -> list[Event]:
    """The booking's 20 most recent events, oldest first."""
    return store.recent_booking_events(db, booking_id, RECENT_EVENTS)


def update(
    db: Connection,
    booking_id: str,
    sent: dict[str, Any],
    *,
    actor: str | None,
    precondition: Precondition = None,
) -> Booking:
    """Edit title, notes or metadata while pending or confirmed; records an `updated` event."""
    with store.transaction(db):
        booking = store.booking_for_change(db, booking_id)
        _check(precondition)
        return update_in_transaction(db, booking, sent, actor=actor)


def update_in_transaction(
    db: Connection, booking: Booking, sent: dict[str, Any], *, actor: str | None
) -> Booking:
    """update() of a booking already read, inside the caller's transaction."""
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
        event = new_event(booking["id"], "updated", actor, data={"changed": changed})
        booking = _apply(db, booking, event)
    return booking


def transition(
    db: Connection,
    booking_id: str,
    status: str,
    *,
    cancel_reason: str | None = None,
    actor: str | None,
    precondition: Precondition = None,
) -> Booking:
    """Move the booking to `status`; raises InvalidTransition naming the allowed moves."""
    with store.transaction(db):
        booking = store.booking_for_change(db, booking_id)
        _check(precondition)
        return transition_in_transaction(
            db, booking, status, cancel_reason=cancel_reason, actor=actor
        )


def transition_in_transaction(
    db: Connection, booking: Booking, status: str, *, cancel_reason: str | None, actor: str | None
) -> Booking:
    """transition() of a booking already read, inside the caller's transaction."""
    current = booking["status"]
    if status not in ALLOWED_MOVES[current]:
        raise InvalidTransition(
            moves_message(current),
            details=[{"field": "status", "message": f"Cannot go from {current} to {status}."}],
        )
    data = {"cancel_reason": cancel_reason} if status == CANCELLED else {}
    event = new_event(
        booking["id"], "status_changed", actor, from_status=current, to_status=status, data=data
    )
    return _apply(db, booking, event)


def _apply(db: Connection, booking: Booking, event: Event) -> Booking:
    after, anomaly = step(booking, event)
    assert anomaly is None and after is not None, anomaly  # the caller checked the rule
    store.append_booking_event(db, after, event)
    messages.booking_changed(db, booking, after)
    return after


def delete(db: Connection, booking_id: str, *, precondition: Precondition = None) -> Booking:
    """Remove a pending or cancelled booking and its events (a tombstone for sync)."""
    with store.transaction(db):
        booking = store.booking_for_change(db, booking_id)
        _check(precondition)
        if booking["status"] not in DELETABLE:
            raise InvalidState(
                f"A {booking['status']} booking cannot be deleted; only pending or cancelled "
                "ones. Cancel it first, or keep it for the record."
            )
        store.delete_booking(db, booking_id)
        messages.booking_changed(db, booking, None)
    return booking


# Up to `limit` bookings by start_time then id, after the key `after`, filtered: no rule
# applies to listing, so it is storage's query itself.
find = store.list_bookings


def events(db: Connection, booking_id: str, *, after_hlc: str | None, limit: int) -> list[Event]:
    """Up to `limit` of a booking's events in event order after `after_hlc`. Raises
    store.RowMissing for an unknown booking."""
    store.get_booking(db, booking_id)
    return store.booking_events(db, booking_id, after_hlc=after_hlc, limit=limit)
