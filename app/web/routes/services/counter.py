"""The counter's services (API.md §8) for the web: shop-wide closures and customer search."""

from __future__ import annotations

from typing import Any

from app.domain import closures, customer_search, shop_settings
from app.store import Connection
from app.web import presenters
from app.web.errors import refusals_as_api_errors
from app.web.models.blockers import BlockerCreate, ClosureCreate
from app.web.models.customers import CustomerSearchQuery
from app.web.models.parsing import validate
from app.web.routes.services.blockers import new_blocker

Json = dict[str, Any]
# Stands in for the resource while a closure's body is checked as one blocker's would be.
ANY_RESOURCE = "res_any"


@refusals_as_api_errors
def create_closure(db: Connection, payload: ClosureCreate) -> tuple[Json, list[str]]:
    """{"blockers": [...]} (one per resource) and the ids of active bookings they cover.

    The body is first checked as POST /blockers checks a blocker (ValidationFailed naming the
    same fields), so a closure accepts exactly what a blocker would.
    """
    as_blocker = validate(
        BlockerCreate,
        {**payload.model_dump(exclude={"recurrence"}), "resource_id": ANY_RESOURCE}
        | ({"recurrence": payload.recurrence} if payload.recurrence is not None else {}),
    )
    made, covered = closures.create(db, new_blocker(as_blocker))
    return {"blockers": [presenters.blocker(blocker) for blocker in made]}, covered


@refusals_as_api_errors
def search_customers(db: Connection, query: CustomerSearchQuery) -> tuple[list[Json], bool]:
    """Up to `limit` customers for a type-ahead, and whether more match."""
    country = shop_settings.read(db).country
    rows, more = customer_search.search(db, query.q, country=country, limit=query.limit)
    return [presenters.customer(row) for row in rows], more
