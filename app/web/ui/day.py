"""The day view: one column per resource with the day's bookings and blocker occurrences.

Empty quarter hours are links that open the new-booking form on that resource, day and time;
today's columns carry a "now" line. The same page prints as a day sheet (app.css @media print).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.core.times import format_instant, wall_ms
from app.domain.availability import open_intervals
from app.web.models.blockers import BlockerListQuery
from app.web.models.bookings import BookingListQuery
from app.web.routes.services import blockers, bookings, customers
from app.web.ui import day_grid
from app.web.ui.blueprint import bp
from app.web.ui.day_totals import day_figures
from app.web.ui.filters import zone_info
from app.web.ui.forms import parse_day
from app.web.ui.lists import Rows, all_resources, every, or_none, shop_zone


@bp.get("/")
def home() -> Response:
    return redirect(url_for("ui.day"))


@bp.get("/day")
def day() -> str:
    """One column per resource: the day's bookings by status and blocker occurrences."""
    resource_rows = all_resources()
    zone = shop_zone(resource_rows)
    tz = zone_info(zone)
    shown, date_error = parse_day(request.args.get("date"), tz)
    start, end = day_grid.day_bounds(shown, tz)
    window = window_rows(start, end)
    view = day_grid.layout(
        shown,
        tz,
        resource_rows,
        openings={r["id"]: openings(r, start, end) for r in resource_rows},
        day_bookings=window["bookings"],
        day_blockers=window["blockers"],
        customers=window["customers"],
        now_ms=wall_ms(),
    )
    return render_template(
        "day.html",
        view=view,
        day=shown,
        zone=zone,
        date_error=date_error,
        today=datetime.now(tz).date(),
        timedelta=timedelta,
        day_start=start,
        figures=day_figures(shown) if resource_rows else None,
        nav_date=shown,
        sheet=_sheet(view),
    )


def window_rows(start: int, end: int) -> dict[str, Any]:
    """The bookings, blockers (with occurrences) and booked customers of [start, end)."""
    window = {"from": format_instant(start), "to": format_instant(end)}
    found = every(bookings.list_page, BookingListQuery, window)
    return {
        "bookings": found,
        "blockers": every(blockers.list_page, BlockerListQuery, window),
        "customers": {
            row["customer_id"]: or_none(customers.get, row["customer_id"])
            for row in found
            if row["customer_id"]
        },
    }


def openings(resource: dict[str, Any], start: int, end: int) -> list[tuple[int, int]]:
    """The resource's open intervals in [start, end), in ms."""
    found = open_intervals(resource["business_hours"], resource["timezone"], start, end)
    return [(s.start, s.end) for s in found]


def _sheet(view: dict[str, Any]) -> Rows:
    """The printed day sheet: every booking and blocker of the day, by resource then time."""
    rows: Rows = []
    for col in view["columns"]:
        entries: Iterable[dict[str, Any]] = [
            {"resource": col["resource"], "kind": "blocked", **b} for b in col["blocked"]
        ]
        entries = [
            *entries,
            *({"resource": col["resource"], "kind": "booking", **e} for e in col["entries"]),
        ]
        rows += sorted(entries, key=lambda entry: entry["top"])
    return rows
