"""Resources (API.md §2) for the web: request models in, JSON out."""

from __future__ import annotations

from typing import Any

from app.core.times import parse_instant
from app.domain import Precondition, pagination, resources
from app.store import Connection
from app.web import presenters
from app.web.errors import refusals_as_api_errors
from app.web.models.resources import (
    AvailabilityQuery,
    ResourceCreate,
    ResourceListQuery,
    ResourcePatch,
)
from app.web.routes.services import sent_fields

Json = dict[str, Any]


@refusals_as_api_errors
def create(db: Connection, payload: ResourceCreate) -> Json:
    return presenters.resource(resources.create(db, payload.model_dump()))


@refusals_as_api_errors
def get(db: Connection, resource_id: str) -> Json:
    return presenters.resource(resources.get(db, resource_id))


@refusals_as_api_errors
def update(
    db: Connection, resource_id: str, payload: ResourcePatch, precondition: Precondition = None
) -> Json:
    sent = sent_fields(payload)
    updated = resources.update(db, resource_id, sent, precondition=precondition)
    return presenters.resource(updated)


@refusals_as_api_errors
def delete(db: Connection, resource_id: str, precondition: Precondition = None) -> Json:
    return presenters.resource(resources.delete(db, resource_id, precondition=precondition))


@refusals_as_api_errors
def availability(db: Connection, resource_id: str, query: AvailabilityQuery) -> list[Json]:
    slots = resources.availability(
        db,
        resource_id,
        start=parse_instant(query.from_),
        end=parse_instant(query.to),
        duration_minutes=query.duration_minutes,
        step_minutes=query.step_minutes,
    )
    return presenters.slots(slots)


def list_page(db: Connection, query: ResourceListQuery, secret: str) -> tuple[list[Json], Json]:
    after_id = pagination.decode(secret, "resources", query.cursor)
    rows = resources.find(db, after_id=after_id, limit=query.limit + 1, q=query.q)
    rows, meta = pagination.page(rows, query.limit, secret, "resources", lambda row: row["id"])
    return [presenters.resource(row) for row in rows], meta
