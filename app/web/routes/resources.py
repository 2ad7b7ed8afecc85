"""Resources: /modules/booking/resources (API.md §2)."""

from flask import Blueprint, Response

from app.web.api import cursor_secret, db, endpoint, ok, precondition
from app.web.models.resources import (
    AvailabilityQuery,
    ResourceCreate,
    ResourceListQuery,
    ResourcePatch,
)
from app.web.routes.services import resources
from app.web.schemas import Resource, Slot

bp = Blueprint("resources", __name__, url_prefix="/modules/booking")


@bp.post("/resources")
@endpoint(scope="booking:write", body=ResourceCreate, response=Resource, status=201)
def create_resource(body: ResourceCreate) -> Response:
    """Create a resource."""
    return ok(resources.create(db(), body), status=201)


@bp.get("/resources")
@endpoint(scope="booking:read", query=ResourceListQuery, response=Resource, is_list=True)
def list_resources(query: ResourceListQuery) -> Response:
    """List resources, oldest first, filtered by q."""
    rows, meta = resources.list_page(db(), query, cursor_secret())
    return ok(rows, meta=meta)


@bp.get("/resources/<resource_id>")
@endpoint(scope="booking:read", response=Resource, etag=True)
def get_resource(resource_id: str) -> Response:
    """Get one resource."""
    return ok(resources.get(db(), resource_id))


@bp.patch("/resources/<resource_id>")
@endpoint(scope="booking:write", body=ResourcePatch, response=Resource, record=get_resource)
def update_resource(resource_id: str, body: ResourcePatch) -> Response:
    """Update a resource's fields."""
    return ok(resources.update(db(), resource_id, body, precondition()))


@bp.delete("/resources/<resource_id>")
@endpoint(scope="booking:admin", response=Resource, errors=("invalid_state",), record=get_resource)
def delete_resource(resource_id: str) -> Response:
    """Delete a resource permanently; returns what was deleted."""
    return ok(resources.delete(db(), resource_id, precondition()))


@bp.get("/resources/<resource_id>/availability")
@endpoint(scope="booking:read", query=AvailabilityQuery, response=Slot, is_list=True)
def get_resource_availability(resource_id: str, query: AvailabilityQuery) -> Response:
    """Free slots in [from, to) inside business hours, clear of bookings and blockers."""
    slots = resources.availability(db(), resource_id, query)
    return ok(slots, meta={"limit": len(slots), "next_cursor": None, "has_more": False})
