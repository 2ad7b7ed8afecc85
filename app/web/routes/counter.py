"""The counter's routes beyond the seeds (API.md §8): shop-wide closures and customer search."""

from flask import Blueprint, Response

from app.web.api import db, endpoint, ok
from app.web.models.blockers import ClosureCreate
from app.web.models.customers import CustomerSearchQuery
from app.web.routes.blockers import CREATED_META
from app.web.routes.services import counter
from app.web.schemas import Closure, Customer

bp = Blueprint("counter", __name__, url_prefix="/modules/booking")


@bp.post("/closures")
@endpoint(
    scope="booking:write",
    body=ClosureCreate,
    response=Closure,
    status=201,
    errors=("invalid_state", "idempotency_mismatch"),
    meta=CREATED_META,
)
def create_closure(body: ClosureCreate) -> Response:
    """Close the whole shop: one blocker for every resource, in one request."""
    closure, conflicting = counter.create_closure(db(), body)
    return ok(closure, status=201, meta={"conflicting_booking_ids": conflicting})


@bp.get("/customers/search")
@endpoint(scope="booking:read", query=CustomerSearchQuery, response=Customer, is_list=True)
def search_customers(query: CustomerSearchQuery) -> Response:
    """Type-ahead: customers by a few letters of a name or any spelling of a phone number."""
    rows, more = counter.search_customers(db(), query)
    return ok(rows, meta={"limit": query.limit, "next_cursor": None, "has_more": more})
