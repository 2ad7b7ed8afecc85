"""Bookings (API.md §4) for the web: request models in, JSON out.

The status machine and its sets are re-exported because pages decide which buttons to show
from them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app import store
from app.core.times import parse_instant, wall_ms
from app.domain import Precondition, bookings, clashes, customers, moves, pagination, services
from app.domain.booking_states import ALLOWED_MOVES, DELETABLE, EDITABLE, Booking
from app.domain.errors import ServiceNotOffered, UnknownService
from app.store import Connection
from app.web import presenters
from app.web.errors import refusals_as_api_errors
from app.web.models.bookings import (
    BookingCreate,
    BookingListQuery,
    BookingPatch,
    BookingTransition,
    EventListQuery,
)
from app.web.models.moves import BookingMove, BookingUndo
from app.web.routes.services import sent_fields

__all__ = ["ALLOWED_MOVES", "DELETABLE", "EDITABLE"]

Json = dict[str, Any]


def new_booking(payload: BookingCreate) -> bookings.NewBooking:
    return bookings.NewBooking(
        resource_id=payload.resource_id,
        start=parse_instant(payload.start_time),
        end=parse_instant(payload.end_time) if payload.end_time is not None else None,
        duration_minutes=payload.duration_minutes,
        customer_id=payload.customer_id,
        service_id=payload.service_id,
        title=payload.title,
        notes=payload.notes,
        metadata=payload.metadata,
    )


@refusals_as_api_errors
def ensure_bookable(db: Connection, payload: BookingCreate, resource: Json) -> None:
    """Raise what bookings.create would (an unknown or unoffered service, a taken slot) for
    the booking `payload` asks for on `resource`, without making it."""
    service = services.offered(db, payload.service_id, resource)
    start, end = bookings.resolve_interval(new_booking(payload), resource, service)
    bookings.ensure_free(db, resource, start, end, service["buffer_minutes"] if service else 0)


def interval_of(db: Connection, payload: BookingCreate, resource: Json) -> tuple[int, int]:
    """[start, end) in ms of the booking `payload` asks for (a service it names that is gone
    or not performed there is left to bookings.create to refuse)."""
    try:
        service = services.offered(db, payload.service_id, resource)
    except (UnknownService, ServiceNotOffered):
        service = None
    return bookings.resolve_interval(new_booking(payload), resource, service)


def outside_hours(resource: Json, start: int, end: int) -> bool:
    """Whether [start, end) leaves the resource's business hours."""
    return clashes.outside_business_hours(resource, start, end)


def hours_meta(db: Connection, booking: Json) -> Json:
    """`meta` of a booking made or moved: whether it lies outside its resource's hours (the
    API accepts such a booking, as the seeds do, but says so)."""
    resource = store.get_resource(db, booking["resource_id"])
    start, end = parse_instant(booking["start_time"]), parse_instant(booking["end_time"])
    return {"outside_business_hours": clashes.outside_business_hours(resource, start, end)}


def _with_conflicts(db: Connection, booking: Booking) -> Json:
    return presenters.booking(booking, bookings.conflicts(db, booking))


def _with_own_customer_id(db: Connection, payload: BookingCreate) -> bookings.NewBooking:
    new = new_booking(payload)
    if new.customer_id is not None:  # either form of the customer's id (one customer, one id)
        new = dataclasses.replace(new, customer_id=customers.own_id(db, new.customer_id))
    return new


@refusals_as_api_errors
def create(db: Connection, payload: BookingCreate, *, actor: str | None) -> Json:
    booking = bookings.create(db, _with_own_customer_id(db, payload), actor=actor)
    return presenters.booking(booking, [])  # the overlap check just passed


@refusals_as_api_errors
def create_with_meta(
    db: Connection, payload: BookingCreate, *, actor: str | None
) -> tuple[Json, Json]:
    """create(), and its `meta` (as hours_meta, from the resource the create read)."""
    new = _with_own_customer_id(db, payload)
    booking, outside = bookings.create_noting_hours(db, new, actor=actor)
    return presenters.booking(booking, []), {"outside_business_hours": outside}


@refusals_as_api_errors
def get(db: Connection, booking_id: str) -> Json:
    """The booking with its 20 most recent events, oldest first."""
    booking = bookings.get(db, booking_id)
    events = bookings.recent_events(db, booking_id)
    return {**_with_conflicts(db, booking), "events": [presenters.event(e) for e in events]}


@refusals_as_api_errors
def update(
    db: Connection,
    booking_id: str,
    payload: BookingPatch,
    *,
    actor: str | None,
    precondition: Precondition = None,
) -> Json:
    sent = sent_fields(payload)
    updated = bookings.update(db, booking_id, sent, actor=actor, precondition=precondition)
    return _with_conflicts(db, updated)


@refusals_as_api_errors
def transition(
    db: Connection,
    booking_id: str,
    payload: BookingTransition,
    *,
    actor: str | None,
    precondition: Precondition = None,
) -> Json:
    moved = bookings.transition(
        db,
        booking_id,
        payload.status,
        cancel_reason=payload.cancel_reason,
        actor=payload.actor or actor,
        precondition=precondition,
    )
    return _with_conflicts(db, moved)


@refusals_as_api_errors
def move(
    db: Connection,
    booking_id: str,
    payload: BookingMove,
    *,
    actor: str | None,
    precondition: Precondition = None,
) -> Json:
    slot = moves.NewSlot(
        resource_id=payload.resource_id,
        start=parse_instant(payload.start_time) if payload.start_time else None,
        end=parse_instant(payload.end_time) if payload.end_time else None,
        duration_minutes=payload.duration_minutes,
    )
    moved = moves.move(
        db, booking_id, slot, actor=payload.actor or actor, precondition=precondition
    )
    return _with_conflicts(db, moved)


@refusals_as_api_errors
def undo(
    db: Connection,
    booking_id: str,
    payload: BookingUndo,
    *,
    actor: str | None,
    precondition: Precondition = None,
) -> Json:
    corrected = moves.undo(
        db,
        booking_id,
        payload.event_id,
        reason=payload.reason,
        actor=payload.actor or actor,
        now=wall_ms(),
        precondition=precondition,
    )
    return _with_conflicts(db, corrected)


def undoable_event(db: Connection, booking_id: str) -> Json | None:
    """The status change an undo would take back now, if any (for the UI's Undo button)."""
    found = moves.undoable(bookings.events(db, booking_id, after_hlc=None, limit=-1))
    return presenters.event(found) if found is not None else None


@refusals_as_api_errors
def delete(db: Connection, booking_id: str, precondition: Precondition = None) -> Json:
    return presenters.booking(bookings.delete(db, booking_id, precondition=precondition), [])


def list_page(db: Connection, query: BookingListQuery, secret: str) -> tuple[list[Json], Json]:
    """Bookings by start_time then id, filtered; keyset-paginated."""
    after = pagination.decode(secret, "bookings", query.cursor)
    rows = bookings.find(
        db,
        after=tuple(after) if after else None,
        limit=query.limit + 1,
        statuses=query.statuses(),
        resource_id=query.resource_id,
        customer_id=customers.own_id(db, query.customer_id) if query.customer_id else None,
        start=parse_instant(query.from_) if query.from_ else None,
        end=parse_instant(query.to) if query.to else None,
    )
    rows, meta = pagination.page(
        rows, query.limit, secret, "bookings", lambda r: [r["start_time"], r["id"]]
    )
    return [_with_conflicts(db, row) for row in rows], meta


@refusals_as_api_errors
def events_page(
    db: Connection, booking_id: str, query: EventListQuery, secret: str
) -> tuple[list[Json], Json]:
    """All of a booking's events, oldest first (event order), keyset-paginated."""
    kind = f"events:{booking_id}"
    after = pagination.decode(secret, kind, query.cursor)
    rows = bookings.events(db, booking_id, after_hlc=after, limit=query.limit + 1)
    rows, meta = pagination.page(rows, query.limit, secret, kind, lambda r: r["hlc"])
    return [presenters.event(row) for row in rows], meta
