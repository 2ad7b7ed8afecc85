"""Bookings (API.md §4) are event-sourced (SYNC.md §5).

A booking's state is the replay of its events in event (HLC) order through `step`, a total
function: every (status, event) pair either moves the booking or is recorded as an anomaly,
never an exception. Local writes append one event and store the state it leads to, which is
what a full replay gives, because a new local event always sorts last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from app import pagination, storage
from app.domain import availability, blockers
from app.errors import (
    InvalidState,
    InvalidTransition,
    SlotConflict,
    UnknownCustomer,
    UnknownResource,
)
from app.ids import new_id
from app.times import format_instant, parse_instant, wall_ms
from app.validation import (
    BookingCreate,
    BookingListQuery,
    BookingPatch,
    BookingTransition,
    EventListQuery,
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


# --- JSON -------------------------------------------------------------------------------------


def to_json(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking["id"],
        "resource_id": booking["resource_id"],
        "customer_id": booking["customer_id"],
        "start_time": format_instant(booking["start_time"]),
        "end_time": format_instant(booking["end_time"]),
        "duration_minutes": (booking["end_time"] - booking["start_time"]) // 60_000,
        "title": booking["title"],
        "notes": booking["notes"],
        "metadata": booking["metadata"],
        "status": booking["status"],
        "cancel_reason": booking["cancel_reason"],
        "created_at": format_instant(booking["created_at"]),
        "updated_at": format_instant(booking["updated_at"]),
    }


def with_conflicts(db: Database, booking: Booking) -> dict[str, Any]:
    """The booking's JSON plus `conflict_with`: active bookings overlapping it on its resource.

    Local writes refuse overlaps, so only sync makes them: two nodes booked the slot offline.
    The list shows the clash until the hub's cancellation arrives (SYNC.md §5).
    """
    data = to_json(booking)
    clashes = storage.overlapping_active(db, booking) if booking["status"] in ACTIVE else []
    data["conflict_with"] = [clash["id"] for clash in clashes]
    return data


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event["id"],
        "booking_id": event["booking_id"],
        "type": event["type"],
        "from_status": event["from_status"],
        "to_status": event["to_status"],
        "actor": event["actor"],
        "data": event["data"],
        "occurred_at": format_instant(event["occurred_at"]),
        "node_id": event["node_id"],
        "applied": event["applied"],
        "anomaly": event["anomaly"],
    }


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


def resolve_interval(payload: BookingCreate, resource: dict[str, Any]) -> tuple[int, int]:
    """[start, end) in ms: end_time, else duration_minutes, else the resource's default."""
    start = parse_instant(payload.start_time)
    if payload.end_time is not None:
        return start, parse_instant(payload.end_time)
    minutes = payload.duration_minutes or resource["default_duration_minutes"]
    return start, start + minutes * 60_000


def find_clash(
    db: Database, resource: dict[str, Any], start: int, end: int, ignore: str | None = None
) -> str | None:
    """The id of an active booking or blocker that [start, end) plus the buffer would overlap."""
    buffer = resource["buffer_minutes"] * 60_000
    held = availability.Interval(start, end + buffer, "")
    busy = storage.active_bookings_between(db, resource["id"], start - buffer, end + buffer)
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


def create(db: Database, payload: BookingCreate, *, actor: str | None) -> dict[str, Any]:
    """Create a pending booking and its `created` event, atomically with the overlap check.

    Raises UnknownResource, UnknownCustomer, SlotConflict (details name the clashing id).
    """
    booking_id = new_id("bk")
    with storage.transaction(db):
        resource = storage.get_resource(db, payload.resource_id, missing=UnknownResource)
        if payload.customer_id is not None:
            storage.get_customer(db, payload.customer_id, missing=UnknownCustomer)
        start, end = resolve_interval(payload, resource)
        ensure_free(db, resource, start, end)
        data = {
            "resource_id": resource["id"],
            "customer_id": payload.customer_id,
            "start_time": format_instant(start),
            "end_time": format_instant(end),
            "title": payload.title,
            "notes": payload.notes,
            "metadata": payload.metadata,
        }
        event = new_event(booking_id, "created", actor, to_status="pending", data=data)
        booking, _ = step(None, event)
        assert booking is not None
        storage.insert_booking(db, booking, event)
    return {**to_json(booking), "conflict_with": []}  # the overlap check just passed


def get(db: Database, booking_id: str) -> dict[str, Any]:
    """The booking with its 20 most recent events, oldest first. Raises NotFound."""
    booking = storage.get_booking(db, booking_id)
    events = storage.recent_booking_events(db, booking_id, RECENT_EVENTS)
    return {**with_conflicts(db, booking), "events": [event_json(e) for e in events]}


def update(
    db: Database, booking_id: str, payload: BookingPatch, *, actor: str | None
) -> dict[str, Any]:
    """Edit title, notes or metadata while pending or confirmed; records an `updated` event."""
    sent = {name: getattr(payload, name) for name in payload.model_fields_set}
    with storage.transaction(db):
        booking = storage.get_booking(db, booking_id)
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
    return with_conflicts(db, booking)


def transition(
    db: Database, booking_id: str, payload: BookingTransition, *, actor: str | None
) -> dict[str, Any]:
    """Move the booking to `payload.status`; raises InvalidTransition naming allowed moves."""
    with storage.transaction(db):
        booking = storage.get_booking(db, booking_id)
        status = booking["status"]
        if payload.status not in ALLOWED_MOVES[status]:
            raise InvalidTransition(
                moves_message(status),
                details=[
                    {"field": "status", "message": f"Cannot go from {status} to {payload.status}."}
                ],
            )
        data = {"cancel_reason": payload.cancel_reason} if payload.status == "cancelled" else {}
        event = new_event(
            booking_id,
            "status_changed",
            payload.actor or actor,
            from_status=status,
            to_status=payload.status,
            data=data,
        )
        booking = _apply(db, booking, event)
    return with_conflicts(db, booking)


def _apply(db: Database, booking: Booking, event: Event) -> Booking:
    after, anomaly = step(booking, event)
    assert anomaly is None and after is not None, anomaly  # the caller checked the rule
    storage.append_booking_event(db, after, event)
    return after


def delete(db: Database, booking_id: str) -> dict[str, Any]:
    """Remove a pending or cancelled booking and its events (a tombstone for sync)."""
    with storage.transaction(db):
        booking = storage.get_booking(db, booking_id)
        if booking["status"] not in DELETABLE:
            raise InvalidState(
                f"A {booking['status']} booking cannot be deleted; only pending or cancelled "
                "ones. Cancel it first, or keep it for the record."
            )
        storage.delete_booking(db, booking_id)
    return {**to_json(booking), "conflict_with": []}


def list_page(
    db: Database, query: BookingListQuery, secret: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Bookings by start_time then id, filtered; keyset-paginated."""
    after = pagination.decode(secret, "bookings", query.cursor)
    statuses = query.statuses()
    rows = storage.list_bookings(
        db,
        after=tuple(after) if after else None,
        limit=query.limit + 1,
        statuses=statuses,
        resource_id=query.resource_id,
        customer_id=query.customer_id,
        start=parse_instant(query.from_) if query.from_ else None,
        end=parse_instant(query.to) if query.to else None,
    )
    rows, meta = pagination.page(
        rows, query.limit, secret, "bookings", lambda r: [r["start_time"], r["id"]]
    )
    return [with_conflicts(db, row) for row in rows], meta


def events_page(
    db: Database, booking_id: str, query: EventListQuery, secret: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """All of a booking's events, oldest first (event order), keyset-paginated."""
    storage.get_booking(db, booking_id)
    after = pagination.decode(secret, f"events:{booking_id}", query.cursor)
    rows = storage.booking_events(db, booking_id, after_hlc=after, limit=query.limit + 1)
    rows, meta = pagination.page(
        rows, query.limit, secret, f"events:{booking_id}", lambda r: r["hlc"]
    )
    return [event_json(row) for row in rows], meta
