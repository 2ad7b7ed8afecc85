"""Customers: /modules/booking/customers (API.md §3).

Paths take a customer's `cus_` id or the UUID the /v1 API shows for it (one customer, one id).
"""

from flask import Blueprint, Response
from werkzeug.routing import BaseConverter

from app.web.api import cursor_secret, db, endpoint, ok, precondition
from app.web.models.customers import CustomerCreate, CustomerListQuery, CustomerPatch
from app.web.routes.services import customers
from app.web.schemas import Customer

bp = Blueprint("customers", __name__, url_prefix="/modules/booking")


class CustomerIdConverter(BaseConverter):
    """A customer id in a path: any segment but `search`, the type-ahead's own path, so that
    PATCH or DELETE /customers/search is 405 and OPTIONS there offers GET alone, rather than a
    lookup of a customer whose id is "search". No id is (ids are `cus_…` or UUIDs)."""

    regex = r"(?!search(?:/|$))[^/]+"


@bp.post("/customers")
@endpoint(scope="booking:write", body=CustomerCreate, response=Customer, status=201)
def create_customer(body: CustomerCreate) -> Response:
    """Create a customer."""
    return ok(customers.create(db(), body), status=201)


@bp.get("/customers")
@endpoint(scope="booking:read", query=CustomerListQuery, response=Customer, is_list=True)
def list_customers(query: CustomerListQuery) -> Response:
    """List customers, oldest first, filtered by email, q and tags."""
    rows, meta = customers.list_page(db(), query, cursor_secret())
    return ok(rows, meta=meta)


@bp.get("/customers/<customer_id:customer_id>")
@endpoint(scope="booking:read", response=Customer, etag=True)
def get_customer(customer_id: str) -> Response:
    """Get one customer."""
    return ok(customers.get(db(), customer_id))


@bp.patch("/customers/<customer_id:customer_id>")
@endpoint(scope="booking:write", body=CustomerPatch, response=Customer, record=get_customer)
def update_customer(customer_id: str, body: CustomerPatch) -> Response:
    """Update a customer's fields."""
    return ok(customers.update(db(), customer_id, body, precondition()))


@bp.delete("/customers/<customer_id:customer_id>")
@endpoint(scope="booking:admin", response=Customer, record=get_customer)
def delete_customer(customer_id: str) -> Response:
    """Delete a customer permanently; returns what was deleted."""
    return ok(customers.delete(db(), customer_id, precondition()))
