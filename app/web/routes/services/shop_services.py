"""Services with prices, and the day's figures (API.md §8), for the web: models in, JSON out."""

from __future__ import annotations

from typing import Any

from app.domain import Precondition, day_summary, pagination, services
from app.store import Connection
from app.web import presenters
from app.web.errors import refusals_as_api_errors
from app.web.models.day_summary import DaySummaryQuery
from app.web.models.services import ServiceCreate, ServiceListQuery, ServicePatch
from app.web.routes.services import sent_fields

Json = dict[str, Any]


@refusals_as_api_errors
def create(db: Connection, payload: ServiceCreate) -> Json:
    return presenters.service(services.create(db, payload.model_dump()))


@refusals_as_api_errors
def get(db: Connection, service_id: str) -> Json:
    return presenters.service(services.get(db, service_id))


@refusals_as_api_errors
def update(
    db: Connection, service_id: str, payload: ServicePatch, precondition: Precondition = None
) -> Json:
    sent = sent_fields(payload)
    return presenters.service(services.update(db, service_id, sent, precondition=precondition))


@refusals_as_api_errors
def delete(db: Connection, service_id: str, precondition: Precondition = None) -> Json:
    return presenters.service(services.delete(db, service_id, precondition=precondition))


def list_page(db: Connection, query: ServiceListQuery, secret: str) -> tuple[list[Json], Json]:
    after_id = pagination.decode(secret, "services", query.cursor)
    rows = services.find(
        db, after_id=after_id, limit=query.limit + 1, q=query.q, resource_id=query.resource_id
    )
    rows, meta = pagination.page(rows, query.limit, secret, "services", lambda row: row["id"])
    return [presenters.service(row) for row in rows], meta


@refusals_as_api_errors
def summary(db: Connection, query: DaySummaryQuery) -> Json:
    return presenters.day_summary(day_summary.summarize(db, query.day(), query.resource_id))
