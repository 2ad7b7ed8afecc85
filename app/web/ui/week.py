"""The week views: one resource's week on a time grid, or the whole shop's week as a table.

The week starts on the shop's first weekday (Settings); empty cells of a resource's week open
the new-booking form on that day and time, as the day view's do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template, request

from app.core.times import wall_ms
from app.web.ui import day_grid, week_grid
from app.web.ui.blueprint import bp
from app.web.ui.day import openings, window_rows
from app.web.ui.filters import zone_info
from app.web.ui.forms import parse_day
from app.web.ui.lists import all_resources, shop_zone
from app.web.ui.shop import current_shop


@bp.get("/week")
def week() -> str:
    """?date= (any day of the week) and ?resource_id= (none: the whole shop)."""
    resource_rows = all_resources()
    zone = shop_zone(resource_rows)
    tz = zone_info(zone)
    asked, date_error = parse_day(request.args.get("date"), tz)
    first_weekday = current_shop().week_order()[0]
    days = week_grid.week_days(week_grid.week_start(asked, first_weekday))
    start, end = day_grid.day_bounds(days[0], tz)[0], day_grid.day_bounds(days[-1], tz)[1]
    window = window_rows(start, end)
    resource = next((r for r in resource_rows if r["id"] == request.args.get("resource_id")), None)
    grid = table = None
    if resource is not None:
        grid = week_grid.resource_week(
            days,
            tz,
            resource,
            openings={d: openings(resource, *day_grid.day_bounds(d, tz)) for d in days},
            bookings=window["bookings"],
            blockers=window["blockers"],
            customers=window["customers"],
            now_ms=wall_ms(),
        )
    else:
        table = week_grid.shop_week(
            days,
            tz,
            resource_rows,
            bookings=window["bookings"],
            blockers=window["blockers"],
            customers=window["customers"],
        )
    return render_template(
        "week.html",
        days=days,
        first=days[0],
        last=days[-1],
        zone=zone,
        resource=resource,
        resources=resource_rows,
        grid=grid,
        table=table,
        date_error=date_error,
        nav_date=asked,
        today=datetime.now(tz).date(),
        timedelta=timedelta,
    )
