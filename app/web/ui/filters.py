"""Template filters (instants as the shop's local time) and the names every template sees."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import g
from werkzeug.datastructures import MultiDict

from app.core.times import INSTANT_PATTERN, parse_instant, to_datetime
from app.core.vocabulary import CANCELLED, CHECKED_IN, COMPLETED, CONFIRMED, NO_SHOW, STATUSES
from app.web.ui.access import can
from app.web.ui.blueprint import bp
from app.web.ui.csrf import csrf_token

# In the vocabulary's order; zip(strict=True) refuses to start with a status left unlabelled.
STATUS_LABELS = dict(
    zip(
        STATUSES,
        ("Pending", "Confirmed", "Checked in", "Completed", "Cancelled", "No-show"),
        strict=True,
    )
)
# A move's button: the status it moves to, as a verb.
MOVE_LABELS = {
    CONFIRMED: "Confirm",
    CHECKED_IN: "Check in",
    COMPLETED: "Complete",
    CANCELLED: "Cancel booking",
    NO_SHOW: "Mark no-show",
}
# In the vocabulary's order (app/core/vocabulary.py DAY_KEYS and RRULE_DAYS): Monday first.
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_INSTANT_IN_TEXT = re.compile(INSTANT_PATTERN.strip("^$"))


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "can": can,
        "csrf_token": csrf_token,
        "current_key": g.get("api_key"),
        "STATUS_LABELS": STATUS_LABELS,
        "MOVE_LABELS": MOVE_LABELS,
        "no_values": MultiDict(),
    }


def zone_info(name: str | None) -> ZoneInfo:
    """A resource's time zone; UTC for a resource that is gone (or none at all)."""
    return ZoneInfo(name or "UTC")


def _to_local(value: str | int | None, zone_name: str | None) -> datetime | None:
    if value is None:
        return None
    millis = parse_instant(value) if isinstance(value, str) else value
    return to_datetime(millis).astimezone(zone_info(zone_name))


@bp.app_template_filter("clock")
def clock(value: str | int | None, zone: str | None = None) -> str:
    """10:00 in the zone."""
    moment = _to_local(value, zone)
    return moment.strftime("%H:%M") if moment else ""


@bp.app_template_filter("when")
def when(value: str | int | None, zone: str | None = None, with_clock: bool = True) -> str:
    """Mon 7 Jan 2030, 10:00 in the zone (without ", 10:00" when with_clock is false)."""
    moment = _to_local(value, zone)
    if moment is None:
        return "—"
    text = f"{moment:%a} {moment.day} {moment:%b %Y}"
    return f"{text}, {moment:%H:%M}" if with_clock else text


@bp.app_template_filter("day_of")
def day_of(value: str | int | None, zone: str | None = None) -> str:
    """The local date (2030-01-07) of an instant, for links to its day."""
    moment = _to_local(value, zone)
    return moment.date().isoformat() if moment else ""


@bp.app_template_filter("last_day")
def last_day(value: str, zone: str | None = None) -> str:
    """The last day an all-day interval covers: the day before its (midnight) end."""
    return when(parse_instant(value) - 1, zone, with_clock=False)


@bp.app_template_filter("localize")
def localize(message: str, zone: str | None = None) -> str:
    """A service's message with its UTC instants written as the shop's local time."""
    return _INSTANT_IN_TEXT.sub(lambda m: when(m.group(0), zone), message)
