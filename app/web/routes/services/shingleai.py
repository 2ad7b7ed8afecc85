"""ShingleAI-compatible customers (API.md §6) for the web: request models in, their JSON out."""

from __future__ import annotations

from typing import Any

from app.core.times import parse_instant
from app.domain import Precondition, shingleai
from app.store import Connection
from app.web import presenters
from app.web.errors import refusals_as_api_errors
from app.web.models.shingleai import (
    ShingleCustomerCreate,
    ShingleCustomerListQuery,
    ShingleCustomerPatch,
)

Json = dict[str, Any]


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Model fields as column values: the models' field names are the column names."""
    if fields.get("customer_since") is not None:
        fields["customer_since"] = parse_instant(fields["customer_since"])
    return fields


@refusals_as_api_errors
def create(db: Connection, payload: ShingleCustomerCreate) -> Json:
    return presenters.shingle_customer(shingleai.create(db, _columns(payload.model_dump())))


@refusals_as_api_errors
def get(db: Connection, path_id: str) -> Json:
    return presenters.shingle_customer(shingleai.get(db, path_id))


@refusals_as_api_errors
def update(
    db: Connection, path_id: str, payload: ShingleCustomerPatch, precondition: Precondition = None
) -> Json:
    sent = _columns(payload.model_dump(include=payload.model_fields_set))
    updated = shingleai.update(db, path_id, sent, precondition=precondition)
    return presenters.shingle_customer(updated)


@refusals_as_api_errors
def delete(db: Connection, path_id: str, precondition: Precondition = None) -> Json:
    deleted = shingleai.delete(db, path_id, precondition=precondition)
    return presenters.shingle_customer(deleted)


def list_page(db: Connection, query: ShingleCustomerListQuery) -> tuple[list[Json], Json]:
    """One offset page of customers that are not deleted, oldest first, with `meta.pagination`."""
    rows, total = shingleai.find(db, limit=query.limit, offset=query.offset)
    pagination = {
        "limit": query.limit,
        "offset": query.offset,
        "hasMore": query.offset + len(rows) < total,
        "total": total,
    }
    return [presenters.shingle_customer(row) for row in rows], {"pagination": pagination}
