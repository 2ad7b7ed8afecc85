"""Moves, undos, services and the day's figures (API.md §8): /modules/booking/..."""

from flask import Blueprint, Response

from app.web.api import actor, cursor_secret, db, endpoint, ok, precondition
from app.web.models.day_summary import DaySummaryQuery
from app.web.models.moves import BookingMove, BookingUndo
from app.web.models.services import ServiceCreate, ServiceListQuery, ServicePatch
from app.web.routes.bookings import get_booking
from app.web.routes.services import bookings, shop_services
from app.web.schemas import OUTSIDE_HOURS_META, Booking, DaySummary, Service

bp = Blueprint("shop_services", __name__, url_prefix="/modules/booking")

# --- moves and undos --------------------------------------------------------------------------


@bp.post("/bookings/<booking_id>/move")
@endpoint(
    scope="booking:write",
    body=BookingMove,
    response=Booking,
    meta=OUTSIDE_HOURS_META,
    errors=(
        "invalid_state",
        "unknown_resource",
        "service_not_offered",
        "slot_conflict",
    ),
    record=get_booking,
)
def move_booking(booking_id: str, body: BookingMove) -> Response:
    """Move a pending or confirmed booking to another time, resource, or both."""
    moved = bookings.move(db(), booking_id, body, actor=actor(), precondition=precondition())
    return ok(moved, meta=bookings.hours_meta(db(), moved))


@bp.post("/bookings/<booking_id>/undo")
@endpoint(
    scope="booking:write",
    body=BookingUndo,
    response=Booking,
    errors=("invalid_correction", "slot_conflict"),
    record=get_booking,
)
def undo_booking_status(booking_id: str, body: BookingUndo) -> Response:
    """Undo the booking's latest status change (a recorded correction)."""
    undone = bookings.undo(db(), booking_id, body, actor=actor(), precondition=precondition())
    return ok(undone)


# --- services ---------------------------------------------------------------------------------


@bp.post("/services")
@endpoint(scope="booking:write", body=ServiceCreate, response=Service, status=201)
def create_service(body: ServiceCreate) -> Response:
    """Create a service: name, length, price, buffer and the resources that perform it."""
    return ok(shop_services.create(db(), body), status=201)


@bp.get("/services")
@endpoint(scope="booking:read", query=ServiceListQuery, response=Service, is_list=True)
def list_services(query: ServiceListQuery) -> Response:
    """List services, oldest first, filtered by q and resource_id."""
    rows, meta = shop_services.list_page(db(), query, cursor_secret())
    return ok(rows, meta=meta)


@bp.get("/services/<service_id>")
@endpoint(scope="booking:read", response=Service, etag=True)
def get_service(service_id: str) -> Response:
    """Get one service."""
    return ok(shop_services.get(db(), service_id))


@bp.patch("/services/<service_id>")
@endpoint(scope="booking:write", body=ServicePatch, response=Service, record=get_service)
def update_service(service_id: str, body: ServicePatch) -> Response:
    """Update a service's fields; bookings already made keep their price."""
    return ok(shop_services.update(db(), service_id, body, precondition()))


@bp.delete("/services/<service_id>")
@endpoint(scope="booking:admin", response=Service, record=get_service)
def delete_service(service_id: str) -> Response:
    """Delete a service permanently; its bookings keep their price."""
    return ok(shop_services.delete(db(), service_id, precondition()))


# --- the day's figures ------------------------------------------------------------------------


@bp.get("/day-summary")
@endpoint(
    scope="booking:read", query=DaySummaryQuery, response=DaySummary, errors=("unknown_resource",)
)
def get_day_summary(query: DaySummaryQuery) -> Response:
    """Bookings by status and the completed total of a day, per resource and for the shop."""
    return ok(shop_services.summary(db(), query))
