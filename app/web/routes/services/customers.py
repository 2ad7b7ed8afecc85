"""Customers (API.md §3) for the web: request models in, JSON out."""

from __future__ import annotations

from typing import Any

from app.domain import Precondition, customers, pagination
from app.store import Connection
from app.web import presenters
from app.web.errors import refusals_as_api_errors
from app.web.models.customers import CustomerCreate, CustomerListQuery, CustomerPatch
from app.web.routes.services import sent_fields

Json = dict[str, Any]


@refusals_as_api_errors
def create(db: Connection, payload: CustomerCreate) -> Json:
    return presenters.customer(customers.create(db, payload.model_dump()))


@refusals_as_api_errors
def get(db: Connection, customer_id: str) -> Json:
    return presenters.customer(customers.get(db, customer_id))


@refusals_as_api_errors
def update(
    db: Connection, customer_id: str, payload: CustomerPatch, precondition: Precondition = None
) -> Json:
    sent = sent_fields(payload)
    updated = customers.update(db, customer_id, sent, precondition=precondition)
    return presenters.customer(updated)


@refusals_as_api_errors
def delete(db: Connection, customer_id: str, precondition: Precondition = None) -> Json:
    return presenters.customer(customers.delete(db, customer_id, precondition=precondition))


def list_page(db: Connection, query: CustomerListQuery, secret: str) -> tuple[list[Json], Json]:
    """One page of customers in creation order, with `meta` for the next."""
    after_id = pagination.decode(secret, "customers", query.cursor)
    tags = [tag.strip() for tag in (query.tags or "").split(",") if tag.strip()]
    rows = customers.find(
        db, after_id=after_id, limit=query.limit + 1, email=query.email, q=query.q, tags=tags
    )
    rows, meta = pagination.page(rows, query.limit, secret, "customers", lambda row: row["id"])
    return [presenters.customer(row) for row in rows], meta
