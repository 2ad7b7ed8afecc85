"""Recurring blockers' rules: RRULE text or the structured form, checked, bounded and expanded.

Recurrence is expanded by python-dateutil's rrule, never by hand, in the resource's time zone,
so a weekly 12:00 break stays at 12:00 local across daylight-saving changes. Every expansion is
bounded by a query window (and a count), so an endless rule costs only what the window holds.
Nothing here touches the database.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dateutil import rrule
from dateutil.relativedelta import relativedelta

from app.core import deadline
from app.core.times import MAX_MS, parse_instant, to_datetime, to_millis
from app.core.vocabulary import FREQUENCIES, HOUR_MS, RRULE_DAYS
from app.domain.availability import Interval, overlaps

RRULE_FREQUENCIES = dict(
    zip(FREQUENCIES, (rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY), strict=True)
)
RRULE_WEEKDAYS = dict(zip(RRULE_DAYS, rrule.weekdays, strict=True))
# The relativedelta unit one step of each frequency moves by.
PERIOD_UNITS = dict(zip(FREQUENCIES, ("days", "weeks", "months", "years"), strict=True))
# Bounds that keep every blocker's expansion cheap (README § Bookings, blockers and availability).
MAX_OCCURRENCES_PER_DAY = 24
RULE_HORIZON = timedelta(days=3653)
TWO_HOURS = 2 * HOUR_MS  # the most a daylight-saving change moves a wall-clock length
RULE_EXAMPLE = "such as FREQ=WEEKLY;BYDAY=MO,WE"
# The parts that name days: without any of them, dateutil takes the day from DTSTART.
DAY_PARTS = frozenset({"BYDAY", "BYWEEKDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYEASTER"})
PART_HINTS = {
    "UNTIL": "write it in UTC, such as UNTIL=20301231T230000Z",
    "BYDAY": "use MO, TU, WE, TH, FR, SA, SU, optionally numbered such as 1MO or -1FR",
    "WKST": "use MO, TU, WE, TH, FR, SA or SU",
}


def local_time(millis: int, zone: ZoneInfo) -> datetime:
    return to_datetime(millis).astimezone(zone)


def widen_all_day(start: int, end: int, timezone: str) -> tuple[int, int]:
    """From local midnight of the start day to the local midnight after the end (an end already
    at local midnight stays put)."""
    zone = ZoneInfo(timezone)
    local_start = local_time(start, zone)
    local_end = local_time(end, zone)
    day_start = datetime.combine(local_start.date(), datetime.min.time(), tzinfo=zone)
    end_day = local_end.date()
    if local_end.time() != datetime.min.time():
        end_day += timedelta(days=1)
    day_end = datetime.combine(end_day, datetime.min.time(), tzinfo=zone)
    return to_millis(day_start), to_millis(day_end)


def _rule_parts(text: str) -> dict[str, str]:
    """NAME -> VALUE of an RRULE's parts, upper-cased as dateutil reads them."""
    parts: dict[str, str] = {}
    for part in text.upper().split(";"):
        name, equals, value = part.partition("=")
        if not equals or "=" in value:
            raise ValueError(
                f"Write the rule as NAME=VALUE parts separated by semicolons, {RULE_EXAMPLE}; "
                f"{part!r} is not one."
            )
        parts[name] = value
    return parts


def _diagnose(text: str, first_start: datetime) -> str:
    """A sentence naming the part of an RRULE that dateutil refused."""
    parts = _rule_parts(text)
    freq = parts.get("FREQ", "DAILY")
    for name, value in parts.items():
        try:
            rrule.rrulestr(f"FREQ={freq};{name}={value}", dtstart=first_start)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError):
            hint = PART_HINTS.get(name, "see RFC 5545 section 3.3.10")
            if name == "FREQ":
                hint = "use DAILY, WEEKLY, MONTHLY or YEARLY"
            return f"{name}={value} is not valid: {hint}."
    return f"The rule's parts do not work together; write it {RULE_EXAMPLE}."


def build_rule(recurrence: dict[str, Any], first_start: datetime) -> rrule.rrule:
    """The dateutil rule for a blocker's `recurrence`, starting at its first (local) start.

    Raises ValueError with a message fit for a person when an RRULE cannot be used.
    """
    if "rrule" in recurrence:
        text = recurrence["rrule"].strip()
        text = text.removeprefix("RRULE:")
        if "DTSTART" in text.upper() or "\n" in text:
            raise ValueError("Give only the RRULE part; start_time is the rule's start.")
        if any(f"FREQ={fine}" in text.upper() for fine in ("HOURLY", "MINUTELY", "SECONDLY")):
            raise ValueError("Blockers repeat at most daily (FREQ=DAILY, WEEKLY, MONTHLY, YEARLY).")
        # dateutil accepts parts RFC 5545 forbids (INTERVAL=0 repeats one instant forever).
        parts = _rule_parts(text)
        if "COUNT" in parts and "UNTIL" in parts:
            raise ValueError("Give COUNT or UNTIL, not both.")
        for name, top in (("INTERVAL", 365), ("COUNT", 1000)):
            value = parts.get(name)
            if value is not None and not (value.isdigit() and 1 <= int(value) <= top):
                raise ValueError(f"{name} must be a whole number from 1 to {top}.")
        try:
            rule = rrule.rrulestr(text, dtstart=first_start)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError):
            # dateutil's own messages are Python's ("not enough values to unpack ...").
            raise ValueError(_diagnose(text, first_start)) from None
        if not isinstance(rule, rrule.rrule):
            raise ValueError("Give a single RRULE.")
        return rule
    until = recurrence.get("until")
    return rrule.rrule(
        RRULE_FREQUENCIES[recurrence["freq"]],
        dtstart=first_start,
        interval=recurrence.get("interval") or 1,
        count=recurrence.get("count"),
        until=to_datetime(parse_instant(until)) if until else None,
        byweekday=[RRULE_WEEKDAYS[d] for d in recurrence["by_weekday"]]
        if recurrence.get("by_weekday")
        else None,
    )


def per_day(recurrence: dict[str, Any]) -> int:
    """The most occurrences the rule can have in one day (call after build_rule accepted it).

    With FREQ at most DAILY, dateutil yields every BYHOUR x BYMINUTE x BYSECOND time on each day
    it picks (BYSETPOS can only drop some); an absent part is DTSTART's, one value.
    """
    if "rrule" not in recurrence:
        return 1
    parts = _rule_parts(recurrence["rrule"].strip().removeprefix("RRULE:"))
    count = 1
    for name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        if name in parts:
            count *= len({int(value) for value in parts[name].split(",")})
    return count


# --- expansion --------------------------------------------------------------------------------


class _Expansion(NamedTuple):
    """A stored rule made ready to restart anywhere: COUNT already turned into UNTIL."""

    rule: rrule.rrule
    first_start: datetime
    until: datetime | None
    step: str  # the relativedelta unit of one FREQ period: days, weeks, months or years
    interval: int
    fixed: dict[str, Any]  # the parts dateutil would take from DTSTART, given explicitly


@functools.lru_cache(maxsize=4096)
def _expansion(recurrence_json: str, first_ms: int, timezone: str) -> _Expansion:
    recurrence = json.loads(recurrence_json)
    first_start = local_time(first_ms, ZoneInfo(timezone))
    rule = build_rule(recurrence, first_start)
    step, interval, given = _shape(recurrence)
    # dateutil has no public accessor for a rule's UNTIL; it is read once, here.
    until = rule._until
    if "COUNT" in given:
        # A COUNT rule cannot restart (its count runs from DTSTART), so its last occurrence
        # is found once and becomes its UNTIL; COUNT is at most 1000.
        until = first_start
        for until in rule:  # noqa: B007
            deadline.check()
        rule = rule.replace(count=None, until=until)
    return _Expansion(
        rule, first_start, until, step, interval, _fixed_parts(step, given, first_start)
    )


def _shape(recurrence: dict[str, Any]) -> tuple[str, int, set[str]]:
    """(period unit, interval, names of the given parts) of a stored recurrence."""
    if "rrule" not in recurrence:
        given = {"BYDAY"} if recurrence.get("by_weekday") else set()
        given |= {"COUNT"} if recurrence.get("count") else set()
        return PERIOD_UNITS[recurrence["freq"]], recurrence.get("interval") or 1, given
    parts = _rule_parts(recurrence["rrule"].strip().removeprefix("RRULE:"))
    return PERIOD_UNITS[parts["FREQ"].lower()], int(parts.get("INTERVAL", "1")), set(parts)


def _fixed_parts(step: str, given: set[str], first_start: datetime) -> dict[str, Any]:
    """The parts dateutil derives from DTSTART when they are absent (RFC 5545 3.3.10), so a
    restarted rule keeps the first start's time of day and day of the week, month or year."""
    fixed: dict[str, Any] = {
        name.lower(): getattr(first_start, name[2:].lower())
        for name in ("BYHOUR", "BYMINUTE", "BYSECOND")
        if name not in given
    }
    if not given & DAY_PARTS:
        if step == "years":
            fixed["bymonthday"] = first_start.day
            if "BYMONTH" not in given:
                fixed["bymonth"] = first_start.month
        elif step == "months":
            fixed["bymonthday"] = first_start.day
        elif step == "weeks":
            fixed["byweekday"] = first_start.weekday()
    return fixed


def _restarted(expansion: _Expansion, since: datetime, until: datetime) -> rrule.rrule:
    """The rule restarted a whole number of intervals before `since`, ending by `until`.

    dateutil walks every period from DTSTART even to answer `after`; a blocker started in 2030
    and asked about 8999 would walk seven thousand years. Restarting at a whole multiple of the
    interval keeps every occurrence after the new start (the phase of INTERVAL and of the week,
    month or year sets is unchanged), and one spare interval keeps BYSETPOS's sets whole.
    """
    start = expansion.first_start
    if expansion.step in ("days", "weeks"):
        units = (since.date() - start.date()).days // (7 if expansion.step == "weeks" else 1)
    elif expansion.step == "months":
        units = (since.year - start.year) * 12 + since.month - start.month
    else:
        units = since.year - start.year
    skip = (units // expansion.interval - 1) * expansion.interval
    end = min(until, expansion.until) if expansion.until else until
    if skip <= 0:
        return expansion.rule.replace(until=end)
    new_start = start + relativedelta(**{expansion.step: skip})
    return expansion.rule.replace(dtstart=new_start, until=end, **expansion.fixed)


def _end_ms(occurrence_start: datetime, wall_length: timedelta) -> int:
    try:
        return to_millis(
            (occurrence_start.replace(tzinfo=None) + wall_length).replace(
                tzinfo=occurrence_start.tzinfo
            )
        )
    except OverflowError:  # a blocker stored before lengths were bounded (README: Blocker bounds)
        return MAX_MS


def occurrences(
    blocker: dict[str, Any], timezone: str, start: int, end: int, limit: int | None = None
) -> Iterator[Interval]:
    """The blocker's occurrences that overlap [start, end), in order, at most `limit`.

    Occurrences starting in year 9000 or later are not expanded (instants end there).
    """
    first = Interval(blocker["start_time"], blocker["end_time"], blocker["id"])
    window = Interval(start, min(end, MAX_MS), "")
    if not blocker["recurrence"]:
        if overlaps(first, window):
            yield first
        return
    if window.end <= first.start:
        return
    zone = ZoneInfo(timezone)
    # Every occurrence lasts as long as the first in local wall-clock time, so an all-day
    # closure stays midnight to midnight on a 23- or 25-hour day.
    first_start, first_end = local_time(first.start, zone), local_time(first.end, zone)
    wall_length = first_end.replace(tzinfo=None) - first_start.replace(tzinfo=None)
    expansion = _expansion(json.dumps(blocker["recurrence"], sort_keys=True), first.start, timezone)
    # An occurrence overlapping the window started less than one occurrence-length before it.
    since = local_time(max(first.start, window.start - (first.end - first.start) - TWO_HOURS), zone)
    rule = _restarted(expansion, since, local_time(window.end, zone))
    found = 0
    for occurrence_start in rule.xafter(since, inc=True):
        deadline.check()
        interval = Interval(
            to_millis(occurrence_start), _end_ms(occurrence_start, wall_length), blocker["id"]
        )
        if interval.start >= window.end:
            return
        if overlaps(interval, window):
            yield interval
            found += 1
            if limit is not None and found >= limit:
                return


def check_bounds(recurrence: dict[str, Any], first_start: datetime) -> None:
    """Raise ValueError unless the rule occurs within RULE_HORIZON of its start and at most
    MAX_OCCURRENCES_PER_DAY times a day.

    A rule that never matches (say, February 30th) would make dateutil walk to year 9999 on
    every expansion, and one with an occurrence a second would make every day 86,400 of them.
    """
    rule = build_rule(recurrence, first_start)
    daily = per_day(recurrence)
    if daily > MAX_OCCURRENCES_PER_DAY:
        raise ValueError(
            f"The rule occurs up to {daily:,} times a day; a blocker may occur at most "
            f"{MAX_OCCURRENCES_PER_DAY} times a day (count BYHOUR x BYMINUTE x BYSECOND)."
        )
    bounded = rule.replace(until=first_start + RULE_HORIZON, count=None)
    try:
        first = next(iter(bounded), None)
    except (TypeError, KeyError, IndexError, OverflowError):
        raise ValueError(f"The rule cannot be expanded; write it {RULE_EXAMPLE}.") from None
    if first is None:
        raise ValueError("The rule has no occurrence in the ten years after start_time.")
