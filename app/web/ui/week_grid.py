"""The week views' layout: pure functions, no Flask (like day_grid, whose columns they reuse).

A resource's week is seven day columns on one time grid; the shop's week is a table of
resources by days, each cell the day's bookings and blockers in time order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.core.times import parse_instant
from app.web.ui.day_grid import Row, Span, column, day_bounds, finish


def week_start(day: date, first_weekday: int) -> date:
    """The first day of the shop's week that holds `day` (first_weekday as date.weekday())."""
    return day - timedelta(days=(day.weekday() - first_weekday) % 7)


def week_days(start: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range(7)]


def resource_week(
    days: Sequence[date],
    zone: ZoneInfo,
    resource: Row,
    *,
    openings: Mapping[date, Iterable[Span]],
    bookings: list[Row],
    blockers: list[Row],
    customers: Mapping[str, Row | None],
    now_ms: int | None = None,
) -> dict[str, Any]:
    """Seven columns, one per day, of one resource; `openings` holds each day's in ms."""
    columns = [
        column(
            resource,
            day,
            day_bounds(day, zone),
            openings.get(day, ()),
            bookings,
            blockers,
            customers,
        )
        for day in days
    ]
    # Hour labels come from a day of 24 hours, should the week hold a clock change.
    reference = next((d for d in days if _hours(d, zone) == 24), days[0])
    return finish(columns, reference, zone, now_ms)


def _hours(day: date, zone: ZoneInfo) -> int:
    start, end = day_bounds(day, zone)
    return (end - start) // 3_600_000


def shop_week(
    days: Sequence[date],
    zone: ZoneInfo,
    resources: Iterable[Row],
    *,
    bookings: list[Row],
    blockers: list[Row],
    customers: Mapping[str, Row | None],
) -> list[Row]:
    """One row per resource, one cell per day: that day's blockers and bookings by time."""
    rows = []
    for resource in resources:
        cells = []
        for day in days:
            start, end = day_bounds(day, zone)
            items = [
                {"kind": "blocked", "start_time": o["start_time"], "end_time": o["end_time"]}
                | {"title": b["title"] or "Blocked", "all_day": b["all_day"]}
                for b in blockers
                if b["resource_id"] == resource["id"]
                for o in b["occurrences"]
                if parse_instant(o["start_time"]) < end and parse_instant(o["end_time"]) > start
            ]
            items += [
                {"kind": "booking", "booking": b, "start_time": b["start_time"]}
                | {"customer": customers.get(b["customer_id"])}
                for b in bookings
                if b["resource_id"] == resource["id"]
                and start <= parse_instant(b["start_time"]) < end
            ]
            items.sort(key=lambda item: parse_instant(item["start_time"]))
            cells.append({"day": day, "items": items})  # read as cell["items"]: not dict.items
        rows.append({"resource": resource, "cells": cells})
    return rows
