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
from app.core.vocabulary import ACTIVE_STATUSES, MINUTE_MS

FIRST_HOUR, LAST_HOUR = 8, 18  # the grid always shows 08:00-18:00, widened to what it holds
MIN_ROOM = 15  # minutes of height a booking gets however short it is, so its name fits
CELL = 15  # an empty slot of the grid is clickable in steps of this many minutes
ACTIVE = frozenset(ACTIVE_STATUSES)  # statuses that hold their slot

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
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The grid: one column per resource, its first and last minute, and the hour marks.

    `openings` holds each resource's open intervals in ms, `customers` the booked customers by
    id (None for a deleted one). Overlapping bookings share their column in lanes. With
    `now_ms`, each column gets its free cells from now on (`cells`) and today's column its
    "now" line (`now`).
    """
    bounds = day_bounds(shown, zone)
    columns = [
        column(
            resource,
            shown,
            bounds,
            openings.get(resource["id"], ()),
            day_bookings,
            day_blockers,
            customers,
        )
        for resource in resources
    ]
    return finish(columns, shown, zone, now_ms)


def column(
    resource: Row,
    shown: date,
    bounds: Span,
    opening_ms: Iterable[Span],
    bookings: list[Row],
    blockers: list[Row],
    customers: Mapping[str, Row | None],
) -> Row:
    """One resource on one day: its openings, blocker occurrences and bookings in that day."""
    start, end = bounds
    blocked = [
        {**_top_end(o["start_time"], o["end_time"], bounds), **_blocker_label(b), **o}
        for b in blockers
        if b["resource_id"] == resource["id"]
        for o in b["occurrences"]
        if parse_instant(o["start_time"]) < end and parse_instant(o["end_time"]) > start
    ]
    items = [
        {**_top_end(b["start_time"], b["end_time"], bounds), "booking": b}
        | {"customer": customers.get(b["customer_id"])}
        for b in bookings
        if b["resource_id"] == resource["id"]
        and parse_instant(b["start_time"]) < end
        and parse_instant(b["end_time"]) > start
    ]
    assign_lanes(items)
    opening = [span(a, b, bounds) for a, b in opening_ms]
    return {
        "resource": resource,
        "day": shown,
        "bounds": bounds,
        "opening": opening,
        "blocked": blocked,
        "entries": items,
    }


def finish(columns: list[Row], reference: date, zone: ZoneInfo, now_ms: int | None) -> Row:
    """The shared [first, last) range of the columns, and what depends on it: closed time,
    blockers clipped to the grid (so an all-day one shows its label), free cells, "now"."""
    longest = max([(c["bounds"][1] - c["bounds"][0]) // MINUTE_MS for c in columns], default=1440)
    first, last = grid_range(columns, longest)
    for col in columns:
        always_open = col["resource"]["business_hours"] is None
        col["closed"] = [] if always_open else gaps(col["opening"], first, last)
        for blocked in col["blocked"]:
            blocked["top"], blocked["end"] = max(blocked["top"], first), min(blocked["end"], last)
        col["blocked"] = [b for b in col["blocked"] if b["end"] > b["top"]]
        now_minute = _now_minute(col["bounds"], now_ms)
        col["now"] = now_minute if now_minute is not None and first <= now_minute < last else None
        col["cells"] = free_cells(col, first, last, zone, now_ms)
    hours = hour_marks(reference, zone, first, last)
    return {"columns": columns, "first": first, "last": last, "hours": hours}


def _now_minute(bounds: Span, now_ms: int | None) -> int | None:
    if now_ms is None or not bounds[0] <= now_ms < bounds[1]:
        return None
    return (now_ms - bounds[0]) // MINUTE_MS


def free_cells(col: Row, first: int, last: int, zone: ZoneInfo, now_ms: int | None) -> list[Row]:
    """The CELL-minute cells of the column a booking could start in: open, not blocked, not
    held by an active booking, and not started yet. Each has its offset and local time."""
    start, end = col["bounds"]
    if now_ms is not None and now_ms >= end:
        return []  # a day gone by
    earliest = first
    if now_ms is not None and now_ms > start:
        earliest = max(first, -(-(now_ms - start) // MINUTE_MS))
    busy = [(i["top"], i["end"]) for i in col["entries"] if i["booking"]["status"] in ACTIVE]
    busy += [(b["top"], b["end"]) for b in col["blocked"]] + list(col["closed"])
    cells = []
    for top in range(first, last, CELL):
        if top < earliest or any(a < top + CELL and top < b for a, b in busy):
            continue
        local = to_datetime(start + top * MINUTE_MS).astimezone(zone)
        cells.append({"top": top, "time": local.strftime("%H:%M"), "moment": local})
    return cells


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
    edges = [(a, b) for a, b in edges if b > a]
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
            marks.append({"top": offset, "label": local.strftime("%H:%M"), "moment": local})
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
