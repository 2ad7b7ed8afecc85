"""Bookings: /modules/booking/bookings (API.md §4)."""

from flask import Blueprint, Response

from app.web.api import actor, cursor_secret, db, endpoint, ok, precondition
from app.web.models.bookings import (
    BookingCreate,
    BookingListQuery,
    BookingPatch,
    BookingTransition,
    EventListQuery,
)
from app.web.routes.services import bookings
from app.web.schemas import OUTSIDE_HOURS_META, Booking, BookingEvent, BookingWithEvents

bp = Blueprint("bookings", __name__, url_prefix="/modules/booking")


@bp.post("/bookings")
@endpoint(
    scope="booking:write",
    body=BookingCreate,
    response=Booking,
    status=201,
    meta=OUTSIDE_HOURS_META,
    errors=(
        "unknown_resource",
        "unknown_customer",
        "unknown_service",
        "service_not_offered",
        "slot_conflict",
    ),
)
def create_booking(body: BookingCreate) -> Response:
    """Create a pending booking if its slot is free."""
    made, meta = bookings.create_with_meta(db(), body, actor=actor())
    return ok(made, status=201, meta=meta)


@bp.get("/bookings")
@endpoint(scope="booking:read", query=BookingListQuery, response=Booking, is_list=True)
def list_bookings(query: BookingListQuery) -> Response:
    """List bookings by start time, filtered by status, resource, customer and window."""
    rows, meta = bookings.list_page(db(), query, cursor_secret())
    return ok(rows, meta=meta)


@bp.get("/bookings/<booking_id>")
@endpoint(scope="booking:read", response=BookingWithEvents, etag=True)
def get_booking(booking_id: str) -> Response:
    """Get a booking with its 20 most recent events."""
    return ok(bookings.get(db(), booking_id))


@bp.patch("/bookings/<booking_id>")
@endpoint(
    scope="booking:write",
    body=BookingPatch,
    response=Booking,
    errors=("invalid_state",),
    record=get_booking,
)
def update_booking(booking_id: str, body: BookingPatch) -> Response:
    """Edit title, notes or metadata of a pending or confirmed booking."""
    updated = bookings.update(db(), booking_id, body, actor=actor(), precondition=precondition())
    return ok(updated)


@bp.delete("/bookings/<booking_id>")
@endpoint(scope="booking:admin", response=Booking, errors=("invalid_state",), record=get_booking)
def delete_booking(booking_id: str) -> Response:
    """Delete a pending or cancelled booking and its events."""
    return ok(bookings.delete(db(), booking_id, precondition()))


@bp.post("/bookings/<booking_id>/transition")
@endpoint(
    scope="booking:write",
    body=BookingTransition,
    response=Booking,
    errors=("invalid_transition",),
    record=get_booking,
)
def transition_booking(booking_id: str, body: BookingTransition) -> Response:
    """Move a booking to its next status."""
    moved = bookings.transition(db(), booking_id, body, actor=actor(), precondition=precondition())
    return ok(moved)


@bp.get("/bookings/<booking_id>/events")
@endpoint(scope="booking:read", query=EventListQuery, response=BookingEvent, is_list=True)
def list_booking_events(booking_id: str, query: EventListQuery) -> Response:
    """All of a booking's events, oldest first."""
    rows, meta = bookings.events_page(db(), booking_id, query, cursor_secret())
    return ok(rows, meta=meta)
