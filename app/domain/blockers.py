"""Blockers (API.md §5): holidays, breaks and recurring closures of a resource.

Recurrence is expanded by python-dateutil's rrule, never by hand, in the resource's time zone,
so a weekly 12:00 break stays at 12:00 local across daylight-saving changes. Every expansion is
bounded by a query window (and a count), so an endless rule costs only what the window holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule
from sqlite_utils import Database

from app import pagination, storage
from app.domain.availability import Interval, overlaps
from app.errors import UnknownResource, ValidationFailed
from app.ids import new_id
from app.times import format_instant, parse_instant, to_datetime, wall_ms
from app.validation import BlockerCreate, BlockerListQuery

FREQUENCIES = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "monthly": rrule.MONTHLY,
    "yearly": rrule.YEARLY,
}
WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}
MAX_OCCURRENCES_LISTED = 100
RULE_HORIZON = timedelta(days=3653)


def _local(millis: int, zone: ZoneInfo) -> datetime:
    return to_datetime(millis).astimezone(zone)


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def widen_all_day(start: int, end: int, timezone: str) -> tuple[int, int]:
    """From local midnight of the start day to the local midnight after the end (an end already
    at local midnight stays put)."""
    zone = ZoneInfo(timezone)
    local_start = _local(start, zone)
    local_end = _local(end, zone)
    day_start = datetime.combine(local_start.date(), datetime.min.time(), tzinfo=zone)
    end_day = local_end.date()
    if local_end.time() != datetime.min.time():
        end_day += timedelta(days=1)
    day_end = datetime.combine(end_day, datetime.min.time(), tzinfo=zone)
    return _ms(day_start), _ms(day_end)


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
        parts = dict(part.partition("=")[::2] for part in text.upper().split(";"))
        if "COUNT" in parts and "UNTIL" in parts:
            raise ValueError("Give COUNT or UNTIL, not both.")
        for name, top in (("INTERVAL", 365), ("COUNT", 1000)):
            value = parts.get(name)
            if value is not None and not (value.isdigit() and 1 <= int(value) <= top):
                raise ValueError(f"{name} must be a whole number from 1 to {top}.")
        rule = rrule.rrulestr(text, dtstart=first_start)
        if not isinstance(rule, rrule.rrule):
            raise ValueError("Give a single RRULE.")
        return rule
    until = recurrence.get("until")
    return rrule.rrule(
        FREQUENCIES[recurrence["freq"]],
        dtstart=first_start,
        interval=recurrence.get("interval") or 1,
        count=recurrence.get("count"),
        until=to_datetime(parse_instant(until)) if until else None,
        byweekday=[WEEKDAYS[d] for d in recurrence["by_weekday"]]
        if recurrence.get("by_weekday")
        else None,
    )


def occurrences(
    blocker: dict[str, Any], timezone: str, start: int, end: int, limit: int | None = None
) -> Iterator[Interval]:
    """The blocker's occurrences that overlap [start, end), in order, at most `limit`."""
    first = Interval(blocker["start_time"], blocker["end_time"], blocker["id"])
    if not blocker["recurrence"]:
        if overlaps(first, Interval(start, end, "")):
            yield first
        return
    zone = ZoneInfo(timezone)
    first_start = _local(first.start, zone)
    # Every occurrence lasts as long as the first in local wall-clock time, so an all-day
    # closure stays midnight to midnight on a 23- or 25-hour day.
    wall_length = _local(first.end, zone).replace(tzinfo=None) - first_start.replace(tzinfo=None)
    rule = build_rule(blocker["recurrence"], first_start)
    # An occurrence overlapping the window started less than one occurrence-length before it.
    window_from = _local(start, zone) - wall_length - timedelta(hours=2)
    found = 0
    for occurrence_start in rule.xafter(window_from, inc=True):
        occurrence_end = (occurrence_start.replace(tzinfo=None) + wall_length).replace(tzinfo=zone)
        interval = Interval(_ms(occurrence_start), _ms(occurrence_end), blocker["id"])
        if interval.start >= end:
            return
        if overlaps(interval, Interval(start, end, "")):
            yield interval
            found += 1
            if limit is not None and found >= limit:
                return


def occurrences_for_resource(
    db: Database, resource: dict[str, Any], start: int, end: int
) -> Iterator[Interval]:
    """Every blocker occurrence of the resource overlapping [start, end)."""
    for blocker in storage.blockers_for_resource(db, resource["id"], before=end):
        yield from occurrences(blocker, resource["timezone"], start, end)


# --- JSON and services ------------------------------------------------------------------------


def to_json(blocker: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": blocker["id"],
        "resource_id": blocker["resource_id"],
        "title": blocker["title"],
        "start_time": format_instant(blocker["start_time"]),
        "end_time": format_instant(blocker["end_time"]),
        "all_day": bool(blocker["all_day"]),
        "recurrence": blocker["recurrence"],
        "metadata": blocker["metadata"],
        "created_at": format_instant(blocker["created_at"]),
        "updated_at": format_instant(blocker["updated_at"]),
    }


def _interval_json(interval: Interval) -> dict[str, str]:
    return {"start_time": format_instant(interval.start), "end_time": format_instant(interval.end)}


def create(db: Database, payload: BlockerCreate) -> tuple[dict[str, Any], list[str]]:
    """Store a blocker; return it and the ids of active bookings it now covers.

    Bookings in the way do not stop a blocker: staff close for a holiday, then call customers.
    Raises UnknownResource, or ValidationFailed for an RRULE dateutil cannot use.
    """
    # Validate and shape the blocker before taking the write lock: a pathological rule can
    # take dateutil seconds to refuse, and other writers must not wait on that.
    resource = storage.get_resource(db, payload.resource_id, missing=UnknownResource)
    blocker = _new_blocker(payload, resource["timezone"])
    with storage.transaction(db):
        resource = storage.get_resource(db, payload.resource_id, missing=UnknownResource)
        conflicting = _covered_bookings(db, blocker, resource)
        storage.insert_blocker(db, blocker)
    return to_json(blocker), conflicting


def _new_blocker(payload: BlockerCreate, timezone: str) -> dict[str, Any]:
    start, end = parse_instant(payload.start_time), parse_instant(payload.end_time)
    if payload.all_day:
        start, end = widen_all_day(start, end, timezone)
    now = wall_ms()
    blocker = {
        "id": new_id("blk"),
        "resource_id": payload.resource_id,
        "title": payload.title,
        "start_time": start,
        "end_time": end,
        "all_day": payload.all_day,
        "recurrence": payload.recurrence_json(),
        "metadata": payload.metadata,
        "created_at": now,
        "updated_at": now,
    }
    _check_rule(blocker, timezone)
    return blocker


def _check_rule(blocker: dict[str, Any], timezone: str) -> None:
    """422 unless dateutil can use the rule and it occurs within RULE_HORIZON of its start.

    A rule that never matches (say, February 30th) would make dateutil walk to year 9999 on
    every expansion, so it is refused here rather than slowing every booking later.
    """
    if not blocker["recurrence"]:
        return
    try:
        first_start = _local(blocker["start_time"], ZoneInfo(timezone))
        rule = build_rule(blocker["recurrence"], first_start)
        bounded = rule.replace(until=first_start + RULE_HORIZON, count=None)
        if next(iter(bounded), None) is None:
            raise ValueError("The rule has no occurrence in the ten years after start_time.")
    except (ValueError, TypeError) as error:
        raise ValidationFailed(
            "The recurrence rule cannot be used.",
            details=[{"field": "recurrence.rrule", "message": str(error)}],
        ) from None


def _covered_bookings(db: Database, blocker: dict[str, Any], resource: dict[str, Any]) -> list:
    covered = []
    for booking in storage.active_bookings_from(db, resource["id"], blocker["start_time"]):
        window = (booking["start_time"], booking["end_time"])
        if next(occurrences(blocker, resource["timezone"], *window), None) is not None:
            covered.append(booking["id"])
    return covered


def get(db: Database, blocker_id: str) -> dict[str, Any]:
    return to_json(storage.get_blocker(db, blocker_id))


def delete(db: Database, blocker_id: str) -> dict[str, Any]:
    with storage.transaction(db):
        blocker = storage.get_blocker(db, blocker_id)
        storage.delete_blocker(db, blocker_id)
    return to_json(blocker)


def list_page(
    db: Database, query: BlockerListQuery, secret: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Blockers in id order; with a window, only those occurring in it, with their occurrences."""
    after = pagination.decode(secret, "blockers", query.cursor)
    windowed = query.from_ is not None or query.to is not None
    start = parse_instant(query.from_) if query.from_ else 0
    end = parse_instant(query.to) if query.to else 253402300800000  # year 10000
    zones: dict[str, str] = {}
    found: list[dict[str, Any]] = []
    for blocker in storage.iter_blockers(db, after_id=after, resource_id=query.resource_id):
        item = to_json(blocker)
        if windowed:
            zone = zones.get(blocker["resource_id"])
            if zone is None:
                zone = zones[blocker["resource_id"]] = storage.resource_timezone(
                    db, blocker["resource_id"]
                )
            hits = list(occurrences(blocker, zone, start, end, MAX_OCCURRENCES_LISTED))
            if not hits:
                continue
            item["occurrences"] = [_interval_json(hit) for hit in hits]
        found.append({**item, "_key": blocker["id"]})
        if len(found) > query.limit:
            break
    rows, meta = pagination.page(found, query.limit, secret, "blockers", lambda r: r["_key"])
    return [{k: v for k, v in row.items() if k != "_key"} for row in rows], meta
