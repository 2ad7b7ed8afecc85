"""Customer pages: search and add; one customer's details, recent bookings, edit and delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.domain import customer_history
from app.web.api import cursor_secret, db
from app.web.errors import ApiError, ValidationFailed
from app.web.models.customers import (
    CustomerCreate,
    CustomerListQuery,
    CustomerPatch,
    CustomerSearchQuery,
)
from app.web.models.parsing import validate
from app.web.routes.services import counter, counter_pages, customers
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.forms import answer, field_errors
from app.web.ui.lists import all_resources

CUSTOMER_FIELDS = ("name", "phone", "email", "tags", "external_id", "notes")
HISTORY_PAGE = 20  # bookings per page of a customer's history
SEARCH_PAGE = 25  # customers listed for a search (the type-ahead's search, phone spellings too)


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


@bp.post("/customers/<customer_id>/notes")
@requires("booking:write")
def save_notes(customer_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the field (over 2,000 characters), nothing saved."""
    notes = (request.form.get("notes") or "").strip() or None
    try:
        counter_pages.save_customer_notes(db(), customer_id, notes)
    except ValidationFailed as error:
        return _customer_page(customer_id, error=error)
    flash("Notes saved.")
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
        if search["q"] and not search["tags"]:
            # Names by any word, phones in any spelling: the type-ahead's search.
            found = validate(CustomerSearchQuery, {"q": search["q"], "limit": SEARCH_PAGE})
            rows, more = counter.search_customers(db(), found)
            meta = {"next_cursor": None, "more_found": more}
        else:
            query = validate(CustomerListQuery, {**search, "limit": 25})
            rows, meta = customers.list_page(db(), query, cursor_secret())
        search_error = None
    except ValidationFailed as problem:
        rows, meta, search_error = [], {"next_cursor": None}, problem
    page = render_template(
        "customers.html",
        rows=rows,
        meta=meta,
        search=request.args,
        search_errors=field_errors(search_error, ("q", "tags", "cursor")),
        values=request.form if error is not None else MultiDict(),
        error=error,
        errors=field_errors(error, CUSTOMER_FIELDS),
    )
    return answer(page, error)


def _customer_page(customer_id: str, error: ApiError | None = None) -> str | tuple[str, int]:
    record = customers.get(db(), customer_id)
    before = request.args.get("before")
    history, older = counter_pages.customer_history_page(db(), customer_id, before, HISTORY_PAGE)
    values = MultiDict(_customer_values(record))
    values["notes"] = counter_pages.customer_notes(db(), customer_id) or ""
    if error is not None:
        values.update(request.form)
    resource_rows = all_resources()
    page = render_template(
        "customer.html",
        customer=record,
        history=history,
        older=older,
        before=before,
        counts=customer_history.counts(db(), customer_id),
        values=values,
        zones={r["id"]: r["timezone"] for r in resource_rows},
        resource_names={r["id"]: r["name"] for r in resource_rows},
        error=error,
        errors=field_errors(error, CUSTOMER_FIELDS),
    )
    return answer(page, error)


def _customer_values(record: dict[str, Any]) -> dict[str, str]:
    values = {name: record[name] or "" for name in ("name", "phone", "email", "external_id")}
    return {**values, "tags": ", ".join(record["tags"])}
