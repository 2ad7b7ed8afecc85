"""Moving a booking and undoing a status set by mistake (API.md §8), each one booking event.

Each is one event in the booking's history, so sync replays them in event order like every
other (SYNC.md §5).

- A move (`moved`) changes the resource, the time, or both, of a pending or confirmed booking,
  under the overlap rule of a new booking; the event keeps the old and the new slot.
- An undo (`corrected`) takes the booking back to the status it had before its latest status
  change. Limits (README § Corrections): only the latest status change, within
  UNDO_WINDOW_DAYS, never a cancellation the hub made to settle a double booking, and never
  into a slot that has been taken since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app import store
from app.core.times import format_instant
from app.core.vocabulary import ACTIVE_STATUSES, DAY_MS, MAX_BOOKING_MINUTES, MINUTE_MS
from app.domain import Precondition, clashes, messages, services
from app.domain import check as _check
from app.domain.booking_states import CORRECTED, EDITABLE, MOVED, Booking, Event, step
from app.domain.bookings import new_event
from app.domain.errors import (
    InvalidCorrection,
    InvalidInput,
    InvalidState,
    UnknownResource,
    UnknownService,
)
from app.store import Connection

UNDO_WINDOW_DAYS = 7
STATUS_EVENTS = ("status_changed", CORRECTED)


@dataclass(frozen=True)
class NewSlot:
    """Where a booking should go; what is left out stays as it is (the length too)."""

    resource_id: str | None = None
    start: int | None = None
    end: int | None = None
    duration_minutes: int | None = None


def target_slot(booking: Booking, slot: NewSlot) -> tuple[str, int, int]:
    """(resource_id, start, end) the booking moves to. Raises InvalidInput for an end that is
    not after the start or a length that is not whole minutes up to a day."""
    start = booking["start_time"] if slot.start is None else slot.start
    if slot.end is not None:
        end = slot.end
    elif slot.duration_minutes is not None:
        end = start + slot.duration_minutes * MINUTE_MS
    else:
        end = start + booking["end_time"] - booking["start_time"]
    length = end - start
    if length <= 0 or length % MINUTE_MS or length > MAX_BOOKING_MINUTES * MINUTE_MS:
        raise InvalidInput(
            "A booking lasts a whole number of minutes, at most 1440.",
            details=[{"field": "end_time", "message": "Must be after start_time, within a day."}],
        )
    return slot.resource_id or booking["resource_id"], start, end


def _slot_json(resource_id: str, start: int, end: int) -> dict[str, str]:
    return {
        "resource_id": resource_id,
        "start_time": format_instant(start),
        "end_time": format_instant(end),
    }


def move(
    db: Connection,
    booking_id: str,
    slot: NewSlot,
    *,
    actor: str | None,
    precondition: Precondition = None,
) -> Booking:
    """Move a pending or confirmed booking; a move to where it already is records nothing.

    Raises store.RowMissing, InvalidState, InvalidInput, UnknownResource, ServiceNotOffered,
    SlotConflict (saying what is in the way).
    """
    with store.transaction(db):
        booking = store.booking_for_change(db, booking_id)
        _check(precondition)
        if booking["status"] not in EDITABLE:
            raise InvalidState(
                f"A {booking['status']} booking cannot be moved; only pending or confirmed ones."
            )
        resource_id, start, end = target_slot(booking, slot)
        resource = store.get_resource(db, resource_id, missing=UnknownResource)
        here = (booking["resource_id"], booking["start_time"], booking["end_time"])
        if (resource_id, start, end) == here:
            return booking
        if booking["service_id"] and resource_id != booking["resource_id"]:
            _still_offered(db, booking["service_id"], resource)
        clashes.ensure_free(
            db, resource, start, end, buffer_minutes=booking["buffer_minutes"], ignore=booking_id
        )
        data = {"from": _slot_json(*here), "to": _slot_json(resource_id, start, end)}
        return _apply(db, booking, new_event(booking_id, MOVED, actor, data=data))


def _still_offered(db: Connection, service_id: str, resource: dict[str, Any]) -> None:
    """A service deleted since the booking was made no longer limits where it may go."""
    try:
        services.offered(db, service_id, resource)
    except UnknownService:
        return


def undoable(events: list[Event]) -> Event | None:
    """The booking's latest applied status event, if it is a status change an undo may take
    back (not an undo itself, nor the hub's cancellation of a double booking)."""
    latest = next(
        (e for e in reversed(events) if e["applied"] and e["type"] in STATUS_EVENTS), None
    )
    if latest is None or latest["type"] != "status_changed" or _by_sync(latest):
        return None
    return latest


def _by_sync(event: Event) -> bool:
    reason = (event.get("data") or {}).get("cancel_reason") or ""
    return event["actor"] == "sync" and reason.startswith("sync_conflict")


def undo(
    db: Connection,
    booking_id: str,
    event_id: str,
    *,
    reason: str | None,
    actor: str | None,
    now: int,
    precondition: Precondition = None,
) -> Booking:
    """Undo the booking's latest status change, `event_id`, with a `corrected` event.

    Raises store.RowMissing, InvalidCorrection (not that booking's latest status change, a
    sync decision, older than UNDO_WINDOW_DAYS), SlotConflict (the slot was taken since).
    """
    with store.transaction(db):
        booking = store.booking_for_change(db, booking_id)
        _check(precondition)
        events = store.booking_events(db, booking_id)
        target = _undo_target(events, event_id, now)
        restored = _status_before(events, target)
        if booking["status"] not in ACTIVE_STATUSES and restored in ACTIVE_STATUSES:
            resource = store.get_resource(db, booking["resource_id"], missing=UnknownResource)
            clashes.ensure_free(
                db,
                resource,
                booking["start_time"],
                booking["end_time"],
                buffer_minutes=booking["buffer_minutes"],
                ignore=booking_id,
                lead=f"Cannot undo the {_label(booking['status'])}: since then, "
                f"{resource['name']} has been taken",
            )
        data = {"undoes": event_id, "reason": reason}
        event = new_event(
            booking_id,
            CORRECTED,
            actor,
            from_status=booking["status"],
            to_status=restored,
            data=data,
        )
        return _apply(db, booking, event)


UNDONE_LABELS = {
    "no_show": "no-show",
    "checked_in": "check-in",
    "completed": "completion",
    "cancelled": "cancellation",
    "confirmed": "confirmation",
}


def _label(status: str) -> str:
    return UNDONE_LABELS.get(status, status)


def _undo_target(events: list[Event], event_id: str, now: int) -> Event:
    wanted = next((e for e in events if e["id"] == event_id), None)
    if wanted is None:
        raise InvalidCorrection(
            "That event is not in this booking's history.",
            details=[{"field": "event_id", "message": "Not an event of this booking."}],
        )
    latest = undoable(events)
    if latest is None or latest["id"] != event_id:
        message = "Only the booking's latest status change can be undone, once."
        if _by_sync(wanted):
            message = (
                "The hub cancelled this booking to settle a double booking; book the "
                "customer again instead."
            )
        raise InvalidCorrection(
            message, details=[{"field": "event_id", "message": "Not the latest status change."}]
        )
    if now - wanted["occurred_at"] > UNDO_WINDOW_DAYS * DAY_MS:
        raise InvalidCorrection(
            f"Status changes can be undone for {UNDO_WINDOW_DAYS} days; this one is older.",
            details=[{"field": "event_id", "message": "Too old to undo."}],
        )
    return wanted


def _status_before(events: list[Event], target: Event) -> str:
    """The status the booking had just before `target`, replaying its history up to it."""
    state: Booking | None = None
    for event in events:
        if event["id"] == target["id"]:
            break
        state, _ = step(state, event)
    assert state is not None  # a status change always follows the `created` event
    return state["status"]


def _apply(db: Connection, booking: Booking, event: Event) -> Booking:
    after, anomaly = step(booking, event)
    assert anomaly is None and after is not None, anomaly  # the caller checked the rule
    store.append_booking_event(db, after, event)
    # A move supersedes the messages decided for the old slot and decides the new ones; an
    # undo that brings a booking back decides its reminders again (app.domain.messages).
    messages.booking_changed(db, booking, after)
    return after
