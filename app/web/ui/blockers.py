"""Blocker pages: every blocker; add one (once, all day, or repeating) and delete (write scope).

The form takes local dates and times in the resource's zone; the API takes UTC instants.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.core.times import MAX_MS, format_instant, parse_instant
from app.core.vocabulary import FREQUENCIES, RRULE_DAYS
from app.domain import recurrence
from app.web.api import db
from app.web.errors import ApiError, ValidationFailed
from app.web.models.blockers import BlockerCreate, BlockerListQuery, ClosureCreate
from app.web.routes.services import blockers, counter, resources
from app.web.ui.access import requires
from app.web.ui.blueprint import bp
from app.web.ui.clocks import format_clock
from app.web.ui.filters import DAY_LABELS, in_week_order, zone_info
from app.web.ui.forms import (
    PLACEHOLDER_END,
    PLACEHOLDER_START,
    answer,
    field_errors,
    local_instant,
    number,
    text,
    validated,
)
from app.web.ui.lists import all_resources, every, or_none, shop_zone
from app.web.ui.shop import current_shop

BLOCKER_FIELDS = (
    "resource_id",
    "title",
    "start_time",
    "end_time",
    "all_day",
    "recurrence",
    "recurrence.freq",
    "recurrence.interval",
    "recurrence.by_weekday",
    "recurrence.count",
    "recurrence.until",
    "recurrence.rrule",
)
WEEKDAY_NAMES = dict(zip(RRULE_DAYS, DAY_LABELS, strict=True))
WHOLE_SHOP = "shop"  # the resource select's value for a closure of every resource
FREQUENCY_NAMES = dict(
    zip(FREQUENCIES, ("Every day", "Every week", "Every month", "Every year"), strict=True)
)


@bp.get("/blockers")
def blockers_page() -> str | tuple[str, int]:
    """Every blocker; create one (once, all day, or repeating), delete (write scope)."""
    return _blockers_page()


@bp.post("/blockers")
@requires("booking:write")
def create_blocker() -> Response | str | tuple[str, int]:
    """302 back, naming bookings it now covers | 422 validation_error by the fields.

    "The whole shop" as the resource makes a closure: one blocker on every resource.
    """
    try:
        if request.form.get("resource_id") == WHOLE_SHOP:
            made, covered = _close_the_shop(request.form)
        else:
            made, covered = blockers.create(db(), _blocker_payload(request.form))
    except ApiError as error:
        if error.status != 422:
            raise
        return _blockers_page(error=error)
    message = f"Added {made['title'] or 'the blocker'}."
    if covered:
        message += f" It covers {len(covered)} booking(s) already made: call those customers."
        session["covered_bookings"] = covered
    flash(message)
    return redirect(url_for("ui.blockers_page"))


@bp.post("/blockers/<blocker_id>/delete")
@requires("booking:write")
def delete_blocker(blocker_id: str) -> Response:
    """Write scope, as in the API."""
    gone = blockers.delete(db(), blocker_id)
    flash(f"Deleted {gone['title'] or 'the blocker'}.")
    return redirect(url_for("ui.blockers_page"))


def _close_the_shop(form: MultiDict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The form as POST /closures: the shop's time zone reads its dates and times."""
    resource_rows = all_resources()
    zone = shop_zone(resource_rows)
    first = resource_rows[0]["id"] if resource_rows else ""
    payload = _blocker_payload(MultiDict([*form.items(multi=True), ("resource_id", first)]), zone)
    body = payload.model_dump(exclude={"resource_id", "recurrence"})
    if payload.recurrence is not None:
        body["recurrence"] = payload.recurrence
    closure, covered = counter.create_closure(db(), ClosureCreate.model_validate(body))
    made = closure["blockers"]
    summary = {"title": f"{made[0]['title'] or 'the closure'} on all {len(made)} resources"}
    return summary, covered


def _blocker_payload(form: MultiDict[str, str], zone_name: str | None = None) -> BlockerCreate:
    """Local dates and times in the resource's zone become the API's UTC instants.

    All day: the end date is the last closed day, so the blocker ends at the next midnight.
    """
    details: list[dict[str, str]] = []
    resource = or_none(resources.get, form.get("resource_id"))
    zone = zone_info(zone_name or (resource["timezone"] if resource else None))
    all_day = form.get("all_day") == "1"
    start_day, end_day = form.get("start_date", ""), form.get("end_date") or form.get("start_date")
    if all_day:
        start = local_instant(start_day, "00:00", zone)
        try:  # the local midnight after the last day (not always 24 h after its start)
            after = (date.fromisoformat(end_day or "") + timedelta(days=1)).isoformat()
        except ValueError:
            after = None
        end = local_instant(after, "00:00", zone)
    else:
        start = local_instant(start_day, form.get("start_clock"), zone)
        end = local_instant(end_day, form.get("end_clock"), zone)
    for field, value in (("start_time", start), ("end_time", end)):
        if value is None:
            details.append({"field": field, "message": "Enter a date and a time."})
    data: dict[str, Any] = {
        "resource_id": form.get("resource_id", ""),
        "title": text(form, "title"),
        # Placeholders for unreadable times, whose errors are already in `details`.
        "start_time": start or PLACEHOLDER_START,
        "end_time": end or PLACEHOLDER_END,
        "all_day": all_day,
    }
    recurrence = _recurrence_data(form, zone, details)
    if recurrence is not None:
        data["recurrence"] = recurrence
    payload = validated(BlockerCreate, data, details)
    if details:
        raise ValidationFailed(details=details)
    return payload


def _recurrence_data(
    form: MultiDict[str, str], zone: ZoneInfo, details: list[dict[str, str]]
) -> dict[str, Any] | None:
    """The structured recurrence, or None for a one-off; `until` is a local last date."""
    freq = form.get("recurrence.freq", "")
    weekdays = form.getlist("recurrence.by_weekday")
    count = number(form.get("recurrence.count"))
    until_day = form.get("recurrence.until", "")
    interval = number(form.get("recurrence.interval"))
    if not freq and not weekdays and count is None and not until_day and interval in (None, 1):
        return None
    data: dict[str, Any] = {}
    if freq:
        data["freq"] = freq
    if interval is not None:
        data["interval"] = interval
    if weekdays:
        data["by_weekday"] = weekdays
    if count is not None:
        data["count"] = count
    if until_day:
        until = local_instant(until_day, "23:59", zone)
        if until is None:
            details.append({"field": "recurrence.until", "message": "Enter a date."})
        else:
            data["until"] = until
    return data


def _blockers_page(error: ApiError | None = None) -> str | tuple[str, int]:
    resource_rows = all_resources()
    rows = every(blockers.list_page, BlockerListQuery, {})
    names = {r["id"]: r for r in resource_rows}
    for row in rows:
        row["first"] = _first_occurrence(row, names.get(row["resource_id"]))
    today = datetime.now(zone_info(shop_zone(resource_rows))).date().isoformat()
    hour12 = current_shop().hour12
    defaults = {"start_date": today, "recurrence.interval": "1"}
    defaults |= {"start_clock": format_clock(time(12), hour12)}
    defaults |= {"end_clock": format_clock(time(13), hour12)}
    options = [(r["id"], r["name"]) for r in resource_rows]
    if len(resource_rows) > 1:
        options.append((WHOLE_SHOP, f"The whole shop (all {len(resource_rows)} resources)"))
    weekdays = dict(in_week_order(list(WEEKDAY_NAMES.items())))
    page = render_template(
        "blockers.html",
        rows=rows,
        resources=resource_rows,
        resource_by_id=names,
        resource_options=options,
        weekday_names=weekdays,
        frequency_names=FREQUENCY_NAMES,
        covered=session.pop("covered_bookings", []),
        values=request.form if error is not None else MultiDict(defaults),
        error=error,
        errors=field_errors(error, BLOCKER_FIELDS),
    )
    return answer(page, error)


def _first_occurrence(row: dict[str, Any], resource: dict[str, Any] | None) -> str:
    """When a repeating blocker first happens: a Monday-Friday break made on a Saturday first
    happens on Monday, and the list says so."""
    if not row["recurrence"] or resource is None:
        return row["start_time"]
    blocker = {
        **row,
        "start_time": parse_instant(row["start_time"]),
        "end_time": parse_instant(row["end_time"]),
    }
    found = next(
        recurrence.occurrences(blocker, resource["timezone"], blocker["start_time"], MAX_MS),
        None,
    )
    return format_instant(found.start) if found else row["start_time"]
