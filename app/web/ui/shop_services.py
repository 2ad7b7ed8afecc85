"""Service pages: what the shop sells, with its length, price, buffer and resources.

Add and edit them (write scope), delete (admin). Prices are typed as money (45.00) and kept in minor
units (4500), the currency's own number of decimals deciding the step (Babel)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, get_currency_precision, list_currencies
from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.web.api import db
from app.web.errors import ApiError, ValidationFailed
from app.web.models.services import ServiceCreate, ServiceListQuery, ServicePatch
from app.web.routes.services import shop_services
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.forms import answer, field_errors, number, text, validated
from app.web.ui.lists import all_resources, every

SERVICE_FIELDS = (
    "name",
    "duration_minutes",
    "price",
    "currency",
    "buffer_minutes",
    "resource_ids",
)
DEFAULT_CURRENCY = "EUR"
_AMOUNT = re.compile(r"^\d{1,10}(?:[.,]\d+)?$")


@bp.app_template_filter("money")
def money(amount_minor: int | None, currency: str | None) -> str:
    """4500, "EUR" as €45.00 (with the currency's own decimals); "—" without a price."""
    if amount_minor is None or not currency:
        return "—"
    if currency not in list_currencies():
        return f"{amount_minor} {currency}"  # a code from a newer node's list: show it raw
    amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale="en")


def price_field(typed: str | None, currency: str | None) -> int | str | None:
    """45.00 in the form as 4500 minor units; anything unreadable as typed, so the model names
    the field."""
    typed = (typed or "").strip()
    if not typed:
        return None
    if not _AMOUNT.match(typed) or currency not in list_currencies():
        return typed
    amount = Decimal(typed.replace(",", "."))
    minor = amount.scaleb(get_currency_precision(currency))
    return int(minor) if minor == minor.to_integral_value() else typed


def all_services() -> list[dict[str, Any]]:
    return every(shop_services.list_page, ServiceListQuery, {})


@bp.get("/services")
def services_page() -> str | tuple[str, int]:
    """Every service; add one (write scope)."""
    return _services_page()


@bp.post("/services")
@requires("booking:write")
def create_service() -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields."""
    details: list[dict[str, str]] = []
    payload = validated(ServiceCreate, _form_data(request.form), details, {"price_minor": "price"})
    if details:
        return _services_page(error=ValidationFailed(details=details))
    made = shop_services.create(db(), payload)
    flash(f"Added {made['name']}.")
    return redirect(url_for("ui.services_page"))


@bp.get("/services/<service_id>")
def service_page(service_id: str) -> str | tuple[str, int]:
    """One service, with its edit form."""
    return _service_page(service_id)


@bp.post("/services/<service_id>")
@requires("booking:write")
def update_service(service_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields."""
    details: list[dict[str, str]] = []
    data = {"resource_ids": [], **_form_data(request.form)}
    payload = validated(ServicePatch, data, details, {"price_minor": "price"})
    if details:
        return _service_page(service_id, error=ValidationFailed(details=details))
    saved = shop_services.update(db(), service_id, payload)
    flash(f"Saved {saved['name']}. Bookings already made keep their price.")
    return redirect(url_for("ui.services_page"))


@bp.post("/services/<service_id>/delete")
@requires("booking:admin")
def delete_service(service_id: str) -> Response:
    gone = shop_services.delete(db(), service_id)
    flash(f"Deleted {gone['name']}. Its bookings keep their price.")
    return redirect(url_for("ui.services_page"))


def _form_data(form: MultiDict) -> dict[str, Any]:
    currency = (form.get("currency") or "").strip().upper()
    data: dict[str, Any] = {"name": form.get("name", ""), "currency": currency}
    for name in ("duration_minutes", "buffer_minutes"):
        if number(form.get(name)) is not None:
            data[name] = number(form.get(name))
    data["price_minor"] = price_field(text(form, "price"), currency)
    data["resource_ids"] = form.getlist("resource_ids")
    return {name: value for name, value in data.items() if value is not None}


def _services_page(error: ApiError | None = None) -> str | tuple[str, int]:
    rows = all_services()
    currency = rows[-1]["currency"] if rows else DEFAULT_CURRENCY
    defaults = MultiDict({"duration_minutes": "30", "buffer_minutes": "0", "currency": currency})
    page = render_template(
        "services.html",
        rows=rows,
        resources=all_resources(),
        values=request.form if error is not None else defaults,
        error=error,
        errors=field_errors(error, SERVICE_FIELDS),
    )
    return answer(page, error)


def _service_page(service_id: str, error: ApiError | None = None) -> str | tuple[str, int]:
    service = shop_services.get(db(), service_id)
    price = str(Decimal(service["price_minor"]).scaleb(-_precision(service["currency"])))
    stored = MultiDict(
        [
            ("name", service["name"]),
            ("duration_minutes", str(service["duration_minutes"])),
            ("buffer_minutes", str(service["buffer_minutes"])),
            ("price", price),
            ("currency", service["currency"]),
        ]
        + [("resource_ids", rid) for rid in service["resource_ids"]]
    )
    page = render_template(
        "service.html",
        service=service,
        resources=all_resources(),
        values=request.form if error is not None else stored,
        error=error,
        errors=field_errors(error, SERVICE_FIELDS),
    )
    return answer(page, error)


def _precision(currency: str) -> int:
    return get_currency_precision(currency) if currency in list_currencies() else 0
