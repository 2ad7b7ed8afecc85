"""ShingleAI-compatible customers: /v1/customers (API.md §6).

Success bodies are ShingleAI's ({"data": ...}, lists add meta.pagination); auth, scopes, limits,
tokens, idempotency and the error envelope are the rest of the API's.
"""

from flask import Blueprint, Response

from app.web.api import db, endpoint, shingleai_ok
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
def create_customer(body: ShingleCustomerCreate) -> Response:
    """Create a customer (ShingleAI shape).

    201 | 422 validation_error.
    """
    return shingleai_ok(shingleai.create(db(), body), status=201)


@bp.get("/customers")
@endpoint(
    scope="booking:read",
    query=ShingleCustomerListQuery,
    response=ShingleCustomer,
    is_list=True,
    envelope="shingleai",
)
def list_customers(query: ShingleCustomerListQuery) -> Response:
    """List customers that are not deleted, oldest first, by limit and offset.

    200 | 422.
    """
    rows, meta = shingleai.list_page(db(), query)
    return shingleai_ok(rows, meta=meta)


@bp.get("/customers/<customer_id>")
@endpoint(scope="booking:read", response=ShingleCustomer, envelope="shingleai")
def get_customer(customer_id: str) -> Response:
    """Get one customer by its UUID (or cus_ id), deleted or not.

    200 | 404 not_found.
    """
    return shingleai_ok(shingleai.get(db(), customer_id))


@bp.patch("/customers/<customer_id>")
@endpoint(
    scope="booking:write", body=ShingleCustomerPatch, response=ShingleCustomer, envelope="shingleai"
)
def update_customer(customer_id: str, body: ShingleCustomerPatch) -> Response:
    """Update a customer's fields.

    200 | 422 validation_error | 404 not_found (also if deleted).
    """
    return shingleai_ok(shingleai.update(db(), customer_id, body))


@bp.delete("/customers/<customer_id>")
@endpoint(scope="booking:admin", response=ShingleCustomer, envelope="shingleai")
def delete_customer(customer_id: str) -> Response:
    """Soft-delete a customer: deletedAt is set.

    200 | 404 not_found (also if already deleted).
    """
    return shingleai_ok(shingleai.delete(db(), customer_id))
