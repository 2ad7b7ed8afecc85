"""Resource pages: every resource with its hours; add one (write scope), delete (admin)."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.core.vocabulary import DAY_KEYS
from app.web.api import db
from app.web.errors import ApiError, InvalidState, ValidationFailed
from app.web.models.parsing import validate
from app.web.models.resources import ResourceCreate
from app.web.routes.services import resources
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.clocks import format_clock, parse_clock
from app.web.ui.filters import DAY_LABELS, in_week_order
from app.web.ui.forms import answer, field_errors, number, text
from app.web.ui.lists import all_resources, shop_zone
from app.web.ui.shop import current_shop

RESOURCE_FIELDS = (
    "name",
    "timezone",
    "default_duration_minutes",
    "buffer_minutes",
    "business_hours",
)
DAY_NAMES = dict(zip(DAY_KEYS, DAY_LABELS, strict=True))


@bp.get("/resources")
def resources_page() -> str | tuple[str, int]:
    """Every resource; create (write scope), delete (admin)."""
    return _resources_page()


@bp.post("/resources")
@requires("booking:write")
def create_resource() -> Response | str | tuple[str, int]:
    """302 back | 422 validation_error by the fields."""
    form = request.form
    data: dict[str, Any] = {"name": form.get("name", "")}
    if text(form, "timezone"):
        data["timezone"] = form["timezone"].strip()
    for name in ("default_duration_minutes", "buffer_minutes"):
        if number(form.get(name)) is not None:
            data[name] = number(form.get(name))
    days = form.getlist("business_days")
    if days:
        hours = [_as_24h(form.get("opens", "")), _as_24h(form.get("closes", ""))]
        data["business_hours"] = {day: [hours] for day in days}
    try:
        made = resources.create(db(), validate(ResourceCreate, data))
    except ValidationFailed as error:
        return _resources_page(error=error)
    flash(f"Added {made['name']}.")
    return redirect(url_for("ui.resources_page"))


def _as_24h(typed: str) -> str:
    """A time typed on either clock as the API's HH:MM; unreadable text goes on as typed, so
    the API's model names the field."""
    found = parse_clock(typed)
    return found.strftime("%H:%M") if found else typed


@bp.post("/resources/<resource_id>/delete")
@requires("booking:admin")
def delete_resource(resource_id: str) -> Response | str | tuple[str, int]:
    """Admin: 302 back | 422 invalid_state while it has upcoming bookings."""
    try:
        gone = resources.delete(db(), resource_id)
    except InvalidState as error:
        return _resources_page(error=error)
    flash(f"Deleted {gone['name']}.")
    return redirect(url_for("ui.resources_page"))


def _resources_page(error: ApiError | None = None) -> str | tuple[str, int]:
    rows = all_resources()
    hour12 = current_shop().hour12
    defaults = {"timezone": shop_zone(rows), "default_duration_minutes": "60"}
    defaults |= {"buffer_minutes": "0", "opens": format_clock(time(9), hour12)}
    defaults |= {"closes": format_clock(time(17), hour12)}
    page = render_template(
        "resources.html",
        rows=rows,
        day_names=dict(in_week_order(list(DAY_NAMES.items()))),
        values=request.form if error is not None else MultiDict(defaults),
        error=error,
        errors=field_errors(error, RESOURCE_FIELDS),
    )
    return answer(page, error)
