"""The day view: one column per resource with the day's bookings and blocker occurrences."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.core.times import format_instant
from app.domain.availability import open_intervals
from app.web.models.blockers import BlockerListQuery
from app.web.models.bookings import BookingListQuery
from app.web.routes.services import blockers, bookings, customers
from app.web.ui import day_grid
from app.web.ui.blueprint import bp
from app.web.ui.filters import zone_info
from app.web.ui.forms import parse_day
from app.web.ui.lists import all_resources, every, or_none, shop_zone


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
    window = {"from": format_instant(start), "to": format_instant(end)}
    day_bookings = every(bookings.list_page, BookingListQuery, window)
    names: dict[str, Any] = {
        row["customer_id"]: or_none(customers.get, row["customer_id"])
        for row in day_bookings
        if row["customer_id"]
    }
    openings = {
        r["id"]: [
            (s.start, s.end) for s in open_intervals(r["business_hours"], r["timezone"], start, end)
        ]
        for r in resource_rows
    }
    view = day_grid.layout(
        shown,
        tz,
        resource_rows,
        openings=openings,
        day_bookings=day_bookings,
        day_blockers=every(blockers.list_page, BlockerListQuery, window),
        customers=names,
    )
    return render_template(
        "day.html", view=view, day=shown, zone=zone, date_error=date_error,
        today=datetime.now(tz).date(), timedelta=timedelta,
    )  # fmt: skip
