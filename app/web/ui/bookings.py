"""Booking pages: the new-booking form (free slots, inline new customer) and one booking's
detail with its timeline, status moves, edit and delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.core.times import format_instant, parse_instant, wall_ms
from app.web.api import actor, db
from app.web.errors import ApiError, InvalidState, ValidationFailed
from app.web.models.bookings import BookingCreate, BookingPatch, BookingTransition, EventListQuery
from app.web.models.customers import CustomerCreate
from app.web.models.parsing import validate
from app.web.models.resources import AvailabilityQuery
from app.web.routes.services import bookings, customers, resources
from app.web.ui import day_grid
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.filters import STATUS_LABELS, day_of, zone_info
from app.web.ui.forms import (
    PLACEHOLDER_START,
    answer,
    field_errors,
    local_instant,
    number,
    parse_day,
    text,
    validated,
)
from app.web.ui.lists import all_customers, all_resources, every, or_none

NEW_BOOKING_FIELDS = (
    "resource_id", "date", "duration_minutes", "start_time", "customer_id",
    "new_customer_name", "new_customer_phone", "title", "notes",
)  # fmt: skip
BOOKING_FIELDS = ("status", "cancel_reason", "title", "notes")


# --- new booking ------------------------------------------------------------------------------


@bp.get("/bookings/new")
@requires("booking:write")
def new_booking() -> str | tuple[str, int]:
    """Pick a resource, day and length; the free slots are the availability endpoint's."""
    return _new_booking_page(request.args)


@bp.post("/bookings/new")
@requires("booking:write")
def create_booking() -> Response | str | tuple[str, int]:
    """302 to the new booking | 422 validation_error, unknown_*, slot_conflict: form again."""
    try:
        made = _book(request.form)
    except ApiError as error:
        if error.status != 422:
            raise
        return _new_booking_page(request.form, error=error)
    flash("Booking made. Confirm it when the customer agrees.")
    return redirect(url_for("ui.booking", booking_id=made["id"]))


def _book(form: Mapping[str, str]) -> dict[str, Any]:
    """Validate the booking (and inline customer) together, then create them.

    A new customer is made only once the slot is known to be free, so a taken slot leaves
    nothing behind; should another desk take the slot in between, the customer stays and the
    form keeps them selected.
    """
    details: list[dict[str, str]] = []
    resource = or_none(resources.get, form.get("resource_id"))
    zone = zone_info(resource["timezone"] if resource else None)
    start = form.get("start_time") or "other"
    if start == "other":
        start = local_instant(form.get("date"), form.get("other_time"), zone)
        if start is None:
            message = "Choose a free slot, or type a start time under Another time."
            details.append({"field": "start_time", "message": message})
    choice = form.get("customer_id", "")
    if choice == "" and text(form, "new_customer_name"):
        choice = "new"  # a typed name means a new customer even if the list was not touched
    booking_data = {
        "resource_id": form.get("resource_id", ""),
        "start_time": start or PLACEHOLDER_START,  # its error is already in `details`
        "duration_minutes": number(form.get("duration_minutes")),
        "title": text(form, "title"),
        "notes": text(form, "notes"),
        **({"customer_id": choice} if choice not in ("", "new") else {}),
    }
    new_customer = None
    if choice == "new":
        customer_data = {"name": form.get("new_customer_name", "")}
        if text(form, "new_customer_phone"):
            customer_data["phone"] = form["new_customer_phone"].strip()
        rename = {"name": "new_customer_name", "phone": "new_customer_phone"}
        new_customer = validated(CustomerCreate, customer_data, details, rename)
    payload = validated(BookingCreate, booking_data, details)
    if details:
        raise ValidationFailed(details=details)
    if new_customer is not None:
        _refuse_taken_slot(payload)
        made = customers.create(db(), new_customer)
        g.made_customer_id = made["id"]
        payload = payload.model_copy(update={"customer_id": made["id"]})
    return bookings.create(db(), payload, actor=actor())


def _refuse_taken_slot(payload: BookingCreate) -> None:
    """The domain's own overlap check (the SlotConflict bookings.create would raise), asked
    before a customer is made for the slot."""
    resource = or_none(resources.get, payload.resource_id)
    if resource is None:
        return  # bookings.create names the unknown resource
    bookings.ensure_free(db(), resource, *bookings.resolve_interval(payload, resource))


def _new_booking_page(
    values: Mapping[str, str], error: ApiError | None = None
) -> str | tuple[str, int]:
    resource_rows = all_resources()
    if not resource_rows:
        return render_template("booking_new.html", resource=None, values=values, errors={})
    wanted = values.get("resource_id")
    resource = next((r for r in resource_rows if r["id"] == wanted), resource_rows[0])
    zone = resource["timezone"]
    shown, date_error = parse_day(values.get("date"), zone_info(zone))
    duration = number(values.get("duration_minutes")) or resource["default_duration_minutes"]
    errors = field_errors(error, NEW_BOOKING_FIELDS)
    if date_error:
        errors.setdefault("date", []).append(date_error)
    slots: list[dict[str, str]] = []
    start, end = day_grid.day_bounds(shown, zone_info(zone))
    query = {"from": format_instant(start), "to": format_instant(end)}
    try:
        availability = validate(AvailabilityQuery, {**query, "duration_minutes": duration})
        slots = resources.availability(db(), resource["id"], availability)
    except ValidationFailed as problem:
        errors.setdefault("duration_minutes", []).extend(d["message"] for d in problem.details)
    now = wall_ms()
    slots = [slot for slot in slots if parse_instant(slot["start_time"]) >= now]
    chosen_customer = g.get("made_customer_id") or values.get("customer_id", "")
    page = render_template(
        "booking_new.html", resource=resource, resources=resource_rows, zone=zone, day=shown,
        duration=duration, slots=slots, customers=all_customers(), values=values,
        chosen_customer=chosen_customer, error=error, errors=errors,
    )  # fmt: skip
    return answer(page, error)


# --- booking detail ---------------------------------------------------------------------------


@bp.get("/bookings/<booking_id>")
def booking(booking_id: str) -> str | tuple[str, int]:
    """Fields, the events timeline, and the moves valid from its status."""
    return _booking_page(booking_id)


@bp.post("/bookings/<booking_id>/transition")
@requires("booking:write")
def transition_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 invalid_transition or validation_error, shown by the buttons."""
    data = {"status": request.form.get("status", "")}
    if text(request.form, "cancel_reason"):
        data["cancel_reason"] = request.form["cancel_reason"].strip()
    try:
        payload = validate(BookingTransition, data)
        moved = bookings.transition(db(), booking_id, payload, actor=actor())
    except ApiError as error:
        if error.status != 422:
            raise
        return _booking_page(booking_id, error=error)
    flash(f"Booking is now {STATUS_LABELS[moved['status']].lower()}.")
    return redirect(url_for("ui.booking", booking_id=booking_id))


@bp.post("/bookings/<booking_id>/edit")
@requires("booking:write")
def edit_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 invalid_state or validation_error by the fields."""
    data = {"title": text(request.form, "title"), "notes": text(request.form, "notes")}
    try:
        bookings.update(db(), booking_id, validate(BookingPatch, data), actor=actor())
    except ApiError as error:
        if error.status != 422:
            raise
        return _booking_page(booking_id, error=error)
    flash("Booking saved.")
    return redirect(url_for("ui.booking", booking_id=booking_id))


@bp.post("/bookings/<booking_id>/delete")
@requires("booking:admin")
def delete_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """Admin: 302 to its day | 422 invalid_state (only pending or cancelled ones go)."""
    try:
        gone = bookings.delete(db(), booking_id)
    except InvalidState as error:
        return _booking_page(booking_id, error=error)
    flash("Booking deleted.")
    resource = or_none(resources.get, gone["resource_id"])
    day_shown = day_of(gone["start_time"], resource["timezone"] if resource else None)
    return redirect(url_for("ui.day", date=day_shown))


def _booking_page(booking_id: str, error: ApiError | None = None) -> str | tuple[str, int]:
    record = bookings.get(db(), booking_id)
    events = every(
        lambda database, query, secret: bookings.events_page(database, booking_id, query, secret),
        EventListQuery,
        {},
    )
    resource = or_none(resources.get, record["resource_id"])
    zone = resource["timezone"] if resource else "UTC"
    page = render_template(
        "booking.html", booking=record, events=events, resource=resource, zone=zone,
        customer=or_none(customers.get, record["customer_id"]),
        moves=bookings.ALLOWED_MOVES[record["status"]],
        editable=record["status"] in bookings.EDITABLE,
        deletable=record["status"] in bookings.DELETABLE,
        error=error, errors=field_errors(error, BOOKING_FIELDS),
        values=request.form if error is not None else MultiDict(),
    )  # fmt: skip
    return answer(page, error)
