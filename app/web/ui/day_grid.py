"""The day view's layout: where each opening, blocker and booking sits in a resource's column.

Pure functions of rows the view has already read (no Flask, no database), so the maths of
clock-change days, lanes and the grid's hours is tested on its own (tests/unit/test_day_grid.py).
Positions are minutes from the local midnight that starts the day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.core.times import parse_instant, to_datetime, to_millis
from app.core.vocabulary import MINUTE_MS

FIRST_HOUR, LAST_HOUR = 8, 18  # the grid always shows 08:00-18:00, widened to what it holds
MIN_ROOM = 15  # minutes of height a booking gets however short it is, so its name fits

Row = dict[str, Any]
Span = tuple[int, int]


def day_bounds(day: date, zone: ZoneInfo) -> Span:
    """[local midnight, next local midnight) in ms: 23 or 25 hours on a clock-change day."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return to_millis(start), to_millis(end)


def span(first: str | int, last: str | int, bounds: Span) -> Span:
    """An interval (instants or ms) as minutes from the day's start, clipped to the day."""
    start, end = bounds
    a = parse_instant(first) if isinstance(first, str) else first
    b = parse_instant(last) if isinstance(last, str) else last
    return (max(a, start) - start) // MINUTE_MS, (min(b, end) - start) // MINUTE_MS


def layout(
    shown: date,
    zone: ZoneInfo,
    resources: Iterable[Row],
    *,
    openings: Mapping[str, Iterable[Span]],
    day_bookings: list[Row],
    day_blockers: list[Row],
    customers: Mapping[str, Row | None],
) -> dict[str, Any]:
    """The grid: one column per resource, its first and last minute, and the hour marks.

    `openings` holds each resource's open intervals in ms, `customers` the booked customers by
    id (None for a deleted one). Overlapping bookings share their column in lanes.
    """
    bounds = day_bounds(shown, zone)
    columns = []
    for resource in resources:
        blocked = [
            {**_top_end(o["start_time"], o["end_time"], bounds), **_blocker_label(b), **o}
            for b in day_blockers
            if b["resource_id"] == resource["id"]
            for o in b["occurrences"]
        ]
        items = [
            {**_top_end(b["start_time"], b["end_time"], bounds), "booking": b}
            | {"customer": customers.get(b["customer_id"])}
            for b in day_bookings
            if b["resource_id"] == resource["id"]
        ]
        assign_lanes(items)
        opening = [span(a, b, bounds) for a, b in openings.get(resource["id"], ())]
        columns.append(
            {"resource": resource, "opening": opening, "blocked": blocked, "entries": items}
        )
    first, last = grid_range(columns, (bounds[1] - bounds[0]) // MINUTE_MS)
    for column in columns:
        always_open = column["resource"]["business_hours"] is None
        column["closed"] = [] if always_open else gaps(column["opening"], first, last)
    hours = hour_marks(shown, zone, first, last)
    return {"columns": columns, "first": first, "last": last, "hours": hours}


def _blocker_label(blocker: Row) -> dict[str, Any]:
    return {"title": blocker["title"] or "Blocked", "all_day": blocker["all_day"]}


def _top_end(first: str | int, last: str | int, bounds: Span) -> dict[str, int]:
    top, end = span(first, last, bounds)
    return {"top": top, "end": end}


def grid_range(columns: list[Row], day_minutes: int) -> Span:
    """The grid's [first, last) minutes: 08:00-18:00 widened to whole hours around opening
    hours, timed blockers and bookings (not to always-open resources or all-day blockers,
    which would show all 24 hours)."""
    edges = [s for c in columns if c["resource"]["business_hours"] for s in c["opening"]]
    edges += [(b["top"], b["end"]) for c in columns for b in c["blocked"] if not b["all_day"]]
    edges += [(i["top"], i["end"]) for c in columns for i in c["entries"]]
    first = min([FIRST_HOUR * 60, *(a for a, _ in edges)]) // 60 * 60
    last = min(day_minutes, -(-max([LAST_HOUR * 60, *(b for _, b in edges)]) // 60) * 60)
    return first, last


def hour_marks(shown: date, zone: ZoneInfo, first: int, last: int) -> list[Row]:
    """A mark each real hour from the day's start, labelled with the local time then, whose
    offset falls in [first, last) minutes. On the night the clocks go forward the day has 23
    marks (01:00 is skipped); on the night they go back, 25 (01:00 comes twice)."""
    start, end = day_bounds(shown, zone)
    marks = []
    for offset in range(0, (end - start) // MINUTE_MS, 60):
        if first <= offset < last:
            local = to_datetime(start + offset * MINUTE_MS).astimezone(zone)
            marks.append({"top": offset, "label": local.strftime("%H:%M")})
    return marks


def assign_lanes(items: list[Row]) -> None:
    """Side by side when bookings overlap (a sync double booking, or cancelled ones)."""
    items.sort(key=lambda item: (item["top"], item["end"]))
    lane_ends: list[int] = []
    for item in items:
        free = next((i for i, end in enumerate(lane_ends) if end <= item["top"]), None)
        if free is None:
            free = len(lane_ends)
            lane_ends.append(0)
        lane_ends[free] = max(item["end"], item["top"] + MIN_ROOM)
        item["lane"] = free
    for item in items:
        item["lanes"] = len(lane_ends)


def gaps(spans: list[Span], first: int, last: int) -> list[Span]:
    """The parts of [first, last) that no span covers: closed time, shaded in the view."""
    found, cursor = [], first
    for a, b in sorted(spans):
        if a > cursor:
            found.append((cursor, min(a, last)))
        cursor = max(cursor, b)
    if cursor < last:
        found.append((cursor, last))
    return [(a, b) for a, b in found if b > a]
