"""Blockers: /modules/booking/blockers (API.md §5)."""

from flask import Blueprint, Response

from app.web.api import cursor_secret, db, endpoint, ok, precondition
from app.web.models.blockers import BlockerCreate, BlockerListQuery
from app.web.routes.services import blockers
from app.web.schemas import Blocker

bp = Blueprint("blockers", __name__, url_prefix="/modules/booking")

CREATED_META = {
    "type": "object",
    "required": ["conflicting_booking_ids"],
    "properties": {
        "conflicting_booking_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Active bookings the new blocker covers; call those customers.",
        }
    },
}


@bp.post("/blockers")
@endpoint(
    scope="booking:write",
    body=BlockerCreate,
    response=Blocker,
    status=201,
    errors=("unknown_resource",),
    meta=CREATED_META,
)
def create_blocker(body: BlockerCreate) -> Response:
    """Block time on a resource, once or recurring."""
    blocker, conflicting = blockers.create(db(), body)
    return ok(blocker, status=201, meta={"conflicting_booking_ids": conflicting})


@bp.get("/blockers")
@endpoint(scope="booking:read", query=BlockerListQuery, response=Blocker, is_list=True)
def list_blockers(query: BlockerListQuery) -> Response:
    """List blockers; with from/to, those occurring in the window, with their occurrences."""
    rows, meta = blockers.list_page(db(), query, cursor_secret())
    return ok(rows, meta=meta)


@bp.get("/blockers/<blocker_id>")
@endpoint(scope="booking:read", response=Blocker, etag=True)
def get_blocker(blocker_id: str) -> Response:
    """Get one blocker."""
    return ok(blockers.get(db(), blocker_id))


@bp.delete("/blockers/<blocker_id>")
@endpoint(scope="booking:write", response=Blocker, record=get_blocker)
def delete_blocker(blocker_id: str) -> Response:
    """Delete a blocker; returns what was deleted."""
    return ok(blockers.delete(db(), blocker_id, precondition()))
