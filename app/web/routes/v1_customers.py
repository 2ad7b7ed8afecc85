"""ShingleAI-compatible customers: /v1/customers (API.md §6).

Success bodies are ShingleAI's ({"data": ...}, lists add meta.pagination); auth, scopes, limits,
tokens, idempotency, conditional requests and the error envelope are the rest of the API's.
"""

from flask import Blueprint, Response

from app.web.api import db, endpoint, precondition, shingleai_ok
from app.web.models.shingleai import (
    ShingleCustomerCreate,
    ShingleCustomerListQuery,
    ShingleCustomerPatch,
)
from app.web.routes.services import shingleai
from app.web.schemas import ShingleCustomer

bp = Blueprint("v1_customers", __name__, url_prefix="/v1")


@bp.post("/customers")
@endpoint(
    scope="booking:write",
    body=ShingleCustomerCreate,
    response=ShingleCustomer,
    status=201,
    envelope="shingleai",
)
def create_v1_customer(body: ShingleCustomerCreate) -> Response:
    """Create a customer (ShingleAI shape)."""
    return shingleai_ok(shingleai.create(db(), body), status=201)


@bp.get("/customers")
@endpoint(
    scope="booking:read",
    query=ShingleCustomerListQuery,
    response=ShingleCustomer,
    is_list=True,
    envelope="shingleai",
)
def list_v1_customers(query: ShingleCustomerListQuery) -> Response:
    """List customers that are not deleted, oldest first, by limit and offset."""
    rows, meta = shingleai.list_page(db(), query)
    return shingleai_ok(rows, meta=meta)


@bp.get("/customers/<customer_id>")
@endpoint(scope="booking:read", response=ShingleCustomer, envelope="shingleai", etag=True)
def get_v1_customer(customer_id: str) -> Response:
    """Get one customer by its UUID (or cus_ id), deleted or not."""
    return shingleai_ok(shingleai.get(db(), customer_id))


@bp.patch("/customers/<customer_id>")
@endpoint(
    scope="booking:write",
    body=ShingleCustomerPatch,
    response=ShingleCustomer,
    envelope="shingleai",
    record=get_v1_customer,
)
def update_v1_customer(customer_id: str, body: ShingleCustomerPatch) -> Response:
    """Update a customer's fields (404 once it is soft-deleted)."""
    return shingleai_ok(shingleai.update(db(), customer_id, body, precondition()))


@bp.delete("/customers/<customer_id>")
@endpoint(
    scope="booking:admin", response=ShingleCustomer, envelope="shingleai", record=get_v1_customer
)
def delete_v1_customer(customer_id: str) -> Response:
    """Soft-delete a customer: deletedAt is set (404 when already deleted)."""
    return shingleai_ok(shingleai.delete(db(), customer_id, precondition()))
