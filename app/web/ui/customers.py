"""Customer pages: search and add; one customer's details, recent bookings, edit and delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.core.times import format_instant, wall_ms
from app.web.api import cursor_secret, db
from app.web.errors import ApiError, ValidationFailed
from app.web.models.bookings import BookingListQuery
from app.web.models.customers import CustomerCreate, CustomerListQuery, CustomerPatch
from app.web.models.parsing import validate
from app.web.routes.services import bookings, customers
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.forms import answer, field_errors
from app.web.ui.lists import all_resources, every

CUSTOMER_FIELDS = ("name", "phone", "email", "tags", "external_id")
RECENT_DAYS = 30  # a customer's page lists their bookings from this many days back


@bp.get("/customers")
def customers_page() -> str | tuple[str, int]:
    """Search by q and tags; create (write scope)."""
    return _customers_page()


@bp.post("/customers")
@requires("booking:write")
def create_customer() -> Response | str | tuple[str, int]:
    """302 to the customer | 422 validation_error by the fields."""
    try:
        made = customers.create(db(), validate(CustomerCreate, _customer_data(request.form)))
    except ValidationFailed as error:
        return _customers_page(error=error)
    flash(f"Added {made['name']}.")
    return redirect(url_for("ui.customer", customer_id=made["id"]))


@bp.get("/customers/<customer_id>")
def customer(customer_id: str) -> str | tuple[str, int]:
    """One customer: edit form, their bookings, delete (admin)."""
    return _customer_page(customer_id)


@bp.post("/customers/<customer_id>")
@requires("booking:write")
def update_customer(customer_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields."""
    data = _customer_data(request.form, patch=True)
    try:
        customers.update(db(), customer_id, validate(CustomerPatch, data))
    except ValidationFailed as error:
        return _customer_page(customer_id, error=error)
    flash("Customer saved.")
    return redirect(url_for("ui.customer", customer_id=customer_id))


@bp.post("/customers/<customer_id>/delete")
@requires("booking:admin")
def delete_customer(customer_id: str) -> Response:
    """Admin: remove for good; their bookings keep the id as history."""
    gone = customers.delete(db(), customer_id)
    flash(f"Deleted {gone['name']}.")
    return redirect(url_for("ui.customers_page"))


def _customer_data(form: Mapping[str, str], *, patch: bool = False) -> dict[str, Any]:
    """The form as the API's body. On edit an emptied phone is "" and an emptied external id
    is null (cleared), as in the API; an email can be changed but not removed."""
    data: dict[str, Any] = {"name": form.get("name", "")}
    for name in ("phone", "email", "external_id"):
        value = (form.get(name) or "").strip()
        if value:
            data[name] = value
        elif patch and name == "phone":
            data[name] = ""
        elif patch and name == "external_id":
            data[name] = None
    data["tags"] = [tag.strip() for tag in form.get("tags", "").split(",") if tag.strip()]
    return data


def _customers_page(error: ApiError | None = None) -> str | tuple[str, int]:
    search = {name: request.args.get(name) or None for name in ("q", "tags", "cursor")}
    try:
        query = validate(CustomerListQuery, {**search, "limit": 25})
        rows, meta = customers.list_page(db(), query, cursor_secret())
        search_error = None
    except ValidationFailed as problem:
        rows, meta, search_error = [], {"next_cursor": None}, problem
    page = render_template(
        "customers.html", rows=rows, meta=meta, search=request.args,
        search_errors=field_errors(search_error, ("q", "tags", "cursor")),
        values=request.form if error is not None else MultiDict(),
        error=error, errors=field_errors(error, CUSTOMER_FIELDS),
    )  # fmt: skip
    return answer(page, error)


def _customer_page(customer_id: str, error: ApiError | None = None) -> str | tuple[str, int]:
    record = customers.get(db(), customer_id)
    since = format_instant(wall_ms() - RECENT_DAYS * 86_400_000)
    their_bookings = every(
        bookings.list_page, BookingListQuery, {"customer_id": customer_id, "from": since}, cap=50
    )
    values = request.form if error is not None else MultiDict(_customer_values(record))
    page = render_template(
        "customer.html", customer=record, bookings=their_bookings, values=values,
        zones={r["id"]: r["timezone"] for r in all_resources()},
        error=error, errors=field_errors(error, CUSTOMER_FIELDS),
    )  # fmt: skip
    return answer(page, error)


def _customer_values(record: dict[str, Any]) -> dict[str, str]:
    values = {name: record[name] or "" for name in ("name", "phone", "email", "external_id")}
    return {**values, "tags": ", ".join(record["tags"])}
