"""Booking pages: the new-booking form, and one booking with its timeline and next steps.

The form lists free slots and can make a new customer inline; a booking's page shows its
detail, timeline, the status moves its status allows, edit and delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.core.times import format_instant, parse_instant, wall_ms
from app.web.api import actor, db
from app.web.errors import ApiError, InvalidState, ValidationFailed
from app.web.models.bookings import BookingCreate, BookingPatch, BookingTransition, EventListQuery
from app.web.models.customers import CustomerCreate, CustomerSearchQuery
from app.web.models.parsing import validate
from app.web.models.resources import AvailabilityQuery
from app.web.routes.services import bookings, counter, customers, resources, shop_services
from app.web.ui import booking_changes, day_grid
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.clocks import format_clock, parse_clock
from app.web.ui.filters import STATUS_LABELS, day_of, when, zone_info
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
from app.web.ui.lists import all_resources, every, or_none
from app.web.ui.shop import current_shop
from app.web.ui.shop_services import all_services

NEW_BOOKING_FIELDS = (
    "resource_id",
    "date",
    "duration_minutes",
    "start_time",
    "customer_id",
    "service_id",
    "new_customer_name",
    "new_customer_phone",
    "title",
    "notes",
)
PICKER_SUGGESTIONS = 8  # matches listed under the customer field while typing (or after Book)
BOOKING_FIELDS = ("status", "cancel_reason", "title", "notes")
NEW_BOOKING_FIELDS += ("customer_pick",)


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
    except booking_changes.Question as question:
        return _new_booking_page(request.form, question=question.ask)
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
    # The type-ahead fills customer_id; without scripts, a match is picked as customer_pick.
    choice = form.get("customer_pick") or form.get("customer_id", "")
    if choice == "" and text(form, "new_customer_name"):
        choice = "new"  # a typed name means a new customer even if the list was not touched
    elif choice == "" and text(form, "customer_q"):
        message = "Pick the customer from the matches, or clear the customer field."
        details.append({"field": "customer_id", "message": message})
    booking_data = {
        "resource_id": form.get("resource_id", ""),
        "start_time": start or PLACEHOLDER_START,  # its error is already in `details`
        "duration_minutes": number(form.get("duration_minutes")),
        "title": text(form, "title"),
        "notes": text(form, "notes"),
        **({"customer_id": choice} if choice not in ("", "new") else {}),
        **({"service_id": form["service_id"]} if form.get("service_id") else {}),
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
    if form.get("outside_hours_ok") != "1":
        _ask_outside_hours(payload)
    if new_customer is not None:
        _refuse_taken_slot(payload)
        made = customers.create(db(), new_customer)
        g.made_customer_id = made["id"]
        payload = payload.model_copy(update={"customer_id": made["id"]})
    return bookings.create(db(), payload, actor=actor())


def _ask_outside_hours(payload: BookingCreate) -> None:
    """A Question before booking outside the resource's business hours (the API allows it)."""
    resource = or_none(resources.get, payload.resource_id)
    if resource is None:
        return  # bookings.create names the unknown resource
    start, end = bookings.interval_of(db(), payload, resource)
    if bookings.outside_hours(resource, start, end):
        raise booking_changes.Question(
            f"{resource['name']} is closed at {when(payload.start_time, resource['timezone'])}. "
            "Book it anyway?"
        )


def _refuse_taken_slot(payload: BookingCreate) -> None:
    """The domain's own overlap check (the SlotConflict bookings.create would raise), asked
    before a customer is made for the slot."""
    resource = or_none(resources.get, payload.resource_id)
    if resource is None:
        return  # bookings.create names the unknown resource
    bookings.ensure_bookable(db(), payload, resource)


def _new_booking_page(
    values: Mapping[str, str], error: ApiError | None = None, question: str | None = None
) -> str | tuple[str, int]:
    resource_rows = all_resources()
    if not resource_rows:
        return render_template("booking_new.html", resource=None, values=values, errors={})
    wanted = values.get("resource_id")
    resource = next((r for r in resource_rows if r["id"] == wanted), resource_rows[0])
    zone = resource["timezone"]
    shown, date_error = parse_day(values.get("date"), zone_info(zone))
    offered = [
        s for s in all_services() if not s["resource_ids"] or resource["id"] in s["resource_ids"]
    ]
    service = next((s for s in offered if s["id"] == values.get("service_id")), None)
    duration = number(values.get("duration_minutes")) or (service or {}).get("duration_minutes")
    duration = duration or resource["default_duration_minutes"]
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
    values = _with_clicked_time(values, slots, shown, zone)
    chosen_id = (
        g.get("made_customer_id") or values.get("customer_pick") or values.get("customer_id")
    )
    chosen = or_none(customers.get, chosen_id)
    typed = values.get("customer_q", "")
    matches: list[dict[str, Any]] = []
    if chosen is None and typed.strip() and error is not None:
        matches = suggestions(typed)
    page = render_template(
        "booking_new.html",
        resource=resource,
        resources=resource_rows,
        zone=zone,
        day=shown,
        duration=duration,
        slots=slots,
        values=values,
        chosen=chosen,
        matches=matches,
        error=error,
        errors=errors,
        services=offered,
        service=service,
        question=question,
        nav_date=shown,
    )
    return answer(page, error)


def _with_clicked_time(
    values: Mapping[str, str], slots: list[dict[str, str]], shown: date, zone: str
) -> Mapping[str, str]:
    """A time clicked on the grid (?time=10:30) chooses its free slot, or Another time."""
    clicked = parse_clock(values.get("time"))
    if clicked is None or values.get("start_time"):
        return values
    instant = local_instant(shown.isoformat(), clicked.strftime("%H:%M"), zone_info(zone))
    if any(slot["start_time"] == instant for slot in slots):
        return {**values, "start_time": instant}
    return {
        **values,
        "start_time": "other",
        "other_time": format_clock(clicked, current_shop().hour12),
    }


def suggestions(typed: str) -> list[dict[str, Any]]:
    """The type-ahead's matches for what was typed ([] for nothing searchable)."""
    try:
        query = validate(CustomerSearchQuery, {"q": typed, "limit": PICKER_SUGGESTIONS})
    except ValidationFailed:
        return []
    return counter.search_customers(db(), query)[0]


@bp.get("/customers/suggest")
def suggest_customers() -> Response:
    """The type-ahead's JSON for the signed-in page: [{id, name, phone, email}]."""
    rows = suggestions(request.args.get("q", ""))
    fields = ("id", "name", "phone", "email")
    return jsonify([{name: row[name] for name in fields} for row in rows])


# --- booking detail ---------------------------------------------------------------------------


@bp.get("/bookings/<booking_id>")
def booking(booking_id: str) -> str | tuple[str, int]:
    """Fields, the events timeline, and the moves valid from its status."""
    return booking_page(booking_id)


@bp.post("/bookings/<booking_id>/transition")
@requires("booking:write")
def transition_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 invalid_transition or validation_error, shown by the buttons."""
    data = {"status": request.form.get("status", "")}
    if text(request.form, "cancel_reason"):
        data["cancel_reason"] = request.form["cancel_reason"].strip()
    try:
        payload = validate(BookingTransition, data)
        record = bookings.get(db(), booking_id)
        booking_changes.refuse_early_status(record, payload.status, request.form)
        moved = bookings.transition(db(), booking_id, payload, actor=actor())
    except booking_changes.Question as question:
        return booking_page(booking_id, status_question=question.ask)
    except ApiError as error:
        if error.status != 422:
            raise
        return booking_page(booking_id, error=error)
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
        return booking_page(booking_id, error=error)
    flash("Booking saved.")
    return redirect(url_for("ui.booking", booking_id=booking_id))


@bp.post("/bookings/<booking_id>/delete")
@requires("booking:admin")
def delete_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """Admin: 302 to its day | 422 invalid_state (only pending or cancelled ones go)."""
    try:
        gone = bookings.delete(db(), booking_id)
    except InvalidState as error:
        return booking_page(booking_id, error=error)
    flash("Booking deleted.")
    resource = or_none(resources.get, gone["resource_id"])
    day_shown = day_of(gone["start_time"], resource["timezone"] if resource else None)
    return redirect(url_for("ui.day", date=day_shown))


def booking_page(
    booking_id: str,
    error: ApiError | None = None,
    *,
    move_question: str | None = None,
    status_question: str | None = None,
) -> str | tuple[str, int]:
    record = bookings.get(db(), booking_id)
    events = every(
        lambda database, query, secret: bookings.events_page(database, booking_id, query, secret),
        EventListQuery,
        {},
    )
    resource = or_none(resources.get, record["resource_id"])
    zone = resource["timezone"] if resource else "UTC"
    page = render_template(
        "booking.html",
        booking=record,
        events=events,
        resource=resource,
        zone=zone,
        customer=or_none(customers.get, record["customer_id"]),
        service=or_none(shop_services.get, record["service_id"]),
        resources=all_resources(),
        move_question=move_question,
        status_question=status_question,
        resource_names={r["id"]: r["name"] for r in all_resources()},
        **booking_changes.page_extras(record, resource),
        editable=record["status"] in bookings.EDITABLE,
        deletable=record["status"] in bookings.DELETABLE,
        error=error,
        errors=field_errors(error, BOOKING_FIELDS + booking_changes.MOVE_FIELDS),
        values=request.form if error or move_question or status_question else MultiDict(),
    )
    return answer(page, error)
