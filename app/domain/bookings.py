"""Bookings (API.md §4): create, edit, move through statuses, delete; each write an event.

Bookings are event-sourced (SYNC.md §5): a booking's state is the replay of its events
(app/domain/booking_states.py). Local writes append one event and store the state it leads
to, which is what a full replay gives, because a new local event always sorts last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import format_instant, wall_ms
from app.core.vocabulary import (
    ACTIVE_STATUSES,
    CANCELLED,
    MINUTE_MS,
    PENDING,
)
from app.domain import Precondition, clashes, messages, services
from app.domain import check as _check
from app.domain.booking_states import (
    ALLOWED_MOVES,
    DELETABLE,
    EDITABLE,
    Booking,
    Event,
    moves_message,
    step,
)
from app.domain.errors import (
    InvalidState,
    InvalidTransition,
    UnknownCustomer,
    UnknownResource,
)
from app.store import Connection

RECENT_EVENTS = 20


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
