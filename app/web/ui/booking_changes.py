"""Moving a booking and undoing a status on the pages, and the questions asked first.

The booking page's move form and Undo button, the day view's drag and keyboard moves (both
post here), and the questions the counter is asked first: before a move or booking outside
business hours, before completing a booking that has not started. No-show is offered only
once the booking has started.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from app.core.times import format_instant, parse_instant, wall_ms
from app.web.api import actor, db
from app.web.errors import ApiError, InvalidTransition, ValidationFailed
from app.web.models.moves import BookingMove, BookingUndo
from app.web.routes.services import bookings, resources
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.filters import STATUS_LABELS, day_of, when, zone_info
from app.web.ui.forms import local_instant, number, validated
from app.web.ui.lists import or_none

MOVE_FIELDS = ("move_date", "move_time", "move_resource_id", "move_duration_minutes")
# The move form's fields, as the API's BookingMove names them.
MOVE_RENAME = {
    "start_time": "move_time",
    "resource_id": "move_resource_id",
    "duration_minutes": "move_duration_minutes",
    "end_time": "move_duration_minutes",
}


class Question(Exception):
    """A form the counter must confirm first; `ask` is the question, shown by the form."""

    def __init__(self, ask: str) -> None:
        self.ask = ask
        super().__init__(ask)


# --- the booking page's extras ----------------------------------------------------------------


def page_extras(record: dict[str, Any], resource: dict[str, Any] | None) -> dict[str, Any]:
    """What the booking page shows beyond the seed's fields: the Undo button's event, the
    status moves offered now, the move form's defaults."""
    zone = resource["timezone"] if resource else "UTC"
    started = parse_instant(record["start_time"]) <= wall_ms()
    moves = [
        move
        for move in bookings.ALLOWED_MOVES[record["status"]]
        if move != "no_show" or started  # a no-show before the start is always a mistake
    ]
    start = parse_instant(record["start_time"])
    defaults = {
        "move_date": day_of(start, zone),
        "move_time": _clock(start, zone),
        "move_resource_id": record["resource_id"],
        "move_duration_minutes": str(record["duration_minutes"]),
    }
    return {
        "moves": moves,
        "started": started,
        "no_show_later": not started and "no_show" in bookings.ALLOWED_MOVES[record["status"]],
        "undoable": bookings.undoable_event(db(), record["id"]),
        "movable": record["status"] in bookings.EDITABLE,
        "move_defaults": defaults,
    }


def _clock(millis: int, zone: str) -> str:
    return datetime.fromtimestamp(millis / 1000, zone_info(zone)).strftime("%H:%M")


def refuse_early_status(record: dict[str, Any], status: str, form: Mapping[str, str]) -> None:
    """Raise InvalidTransition for a no-show before the start, and a Question before
    completing a booking that has not started (the API keeps the seed's rules)."""
    if parse_instant(record["start_time"]) <= wall_ms():
        return
    if status not in bookings.ALLOWED_MOVES[record["status"]]:
        return  # the transition itself is refused, naming the allowed moves
    if status == "no_show":
        raise InvalidTransition(
            "A no-show can only be marked once the booking has started.",
            details=[{"field": "status", "message": "The booking has not started yet."}],
        )
    if status == "completed" and form.get("early_ok") != "1":
        raise Question("This booking has not started yet. Complete it anyway?")


# --- move -------------------------------------------------------------------------------------


@bp.post("/bookings/<booking_id>/move")
@requires("booking:write")
def move_booking(booking_id: str) -> Response | str | tuple[str, int]:
    """302 to the day or the booking | 422 with the reason on the booking page | 200 with a
    question when the new slot is outside business hours."""
    from app.web.ui.bookings import booking_page

    record = bookings.get(db(), booking_id)
    try:
        payload = _move_payload(request.form, record)
        _ask_outside_hours(record, payload, request.form)
        moved = bookings.move(db(), booking_id, payload, actor=actor())
    except Question as question:
        return booking_page(booking_id, move_question=question.ask)
    except ApiError as error:
        if error.status != 422:
            raise
        return booking_page(booking_id, error=error)
    resource = or_none(resources.get, moved["resource_id"])
    zone = resource["timezone"] if resource else "UTC"
    where = resource["name"] if resource else moved["resource_id"]
    flash(f"Moved to {when(moved['start_time'], zone)} on {where}.")
    if request.form.get("return_to") == "day":
        return redirect(url_for("ui.day", date=day_of(moved["start_time"], zone)))
    return redirect(url_for("ui.booking", booking_id=booking_id))


def _move_payload(form: Mapping[str, str], record: dict[str, Any]) -> BookingMove:
    """The move the form asks for: an instant from the day view's drag, or a local date and
    time from the booking page's form, in the target resource's zone."""
    details: list[dict[str, str]] = []
    resource_id = form.get("move_resource_id") or record["resource_id"]
    target = or_none(resources.get, resource_id)
    start = form.get("start_time")
    if not start:
        zone = zone_info(target["timezone"] if target else None)
        start = local_instant(form.get("move_date"), form.get("move_time"), zone)
        if start is None:
            details.append({"field": "move_time", "message": "Type a date and a time."})
    data: dict[str, Any] = {"resource_id": resource_id, "start_time": start or record["start_time"]}
    if number(form.get("move_duration_minutes")) is not None:
        data["duration_minutes"] = number(form.get("move_duration_minutes"))
    payload = validated(BookingMove, data, details, MOVE_RENAME)
    if details:
        raise ValidationFailed(details=details)
    return payload


def _ask_outside_hours(
    record: dict[str, Any], payload: BookingMove, form: Mapping[str, str]
) -> None:
    if form.get("outside_hours_ok") == "1":
        return
    target = or_none(resources.get, payload.resource_id or record["resource_id"])
    if target is None:
        return  # the move names the unknown resource
    start = parse_instant(payload.start_time or record["start_time"])
    minutes = payload.duration_minutes or record["duration_minutes"]
    if bookings.outside_hours(target, start, start + minutes * 60_000):
        raise Question(
            f"{target['name']} is closed at {when(format_instant(start), target['timezone'])}. "
            "Move the booking there anyway?"
        )


# --- undo -------------------------------------------------------------------------------------


@bp.post("/bookings/<booking_id>/undo")
@requires("booking:write")
def undo_booking_status(booking_id: str) -> Response | str | tuple[str, int]:
    """302 back | 422 invalid_correction or slot_conflict, shown on the booking page."""
    from app.web.ui.bookings import booking_page

    data = {"event_id": request.form.get("event_id", "")}
    details: list[dict[str, str]] = []
    payload = validated(BookingUndo, data, details)
    try:
        if details:
            raise ValidationFailed(details=details)
        undone = bookings.undo(db(), booking_id, payload, actor=actor())
    except ApiError as error:
        if error.status != 422:
            raise
        return booking_page(booking_id, error=error)
    flash(f"Undone: the booking is {STATUS_LABELS[undone['status']].lower()} again.")
    return redirect(url_for("ui.booking", booking_id=booking_id))
