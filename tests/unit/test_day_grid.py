"""The day view's layout (app/web/ui/day_grid.py) on plain rows: no app, no database."""

from __future__ import annotations

import ast
import inspect
from datetime import date
from zoneinfo import ZoneInfo

from app.core.vocabulary import MINUTE_MS as MINUTE
from app.web.ui import day_grid
from app.web.ui.day_grid import assign_lanes, day_bounds, gaps, hour_marks, layout, span

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
DAY = date(2030, 1, 7)


def _resource(rid: str = "rs_1", business_hours: object = "set") -> dict:
    hours = {"mon": [["09:00", "17:00"]]} if business_hours == "set" else business_hours
    return {"id": rid, "business_hours": hours, "timezone": "UTC"}


def _booking(start: str, end: str, rid: str = "rs_1", customer_id: str | None = None) -> dict:
    return {"resource_id": rid, "start_time": start, "end_time": end, "customer_id": customer_id}


def _at(hhmm: str) -> int:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return day_bounds(DAY, UTC)[0] + (hours * 60 + minutes) * MINUTE


def _grid(resources: list[dict], bookings=(), blockers=(), customers=None) -> dict:
    openings = {r["id"]: [(_at("09:00"), _at("17:00"))] for r in resources if r["business_hours"]}
    return layout(
        DAY,
        UTC,
        resources,
        openings=openings,
        day_bookings=list(bookings),
        day_blockers=list(blockers),
        customers=customers or {},
    )


def test_the_module_imports_no_flask_and_nothing_of_the_web_layer():
    tree = ast.parse(inspect.getsource(day_grid))
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [n for n in names if n.split(".")[0] in ("flask", "werkzeug", "jinja2")]
    assert not [n for n in names if n.startswith(("app.web.ui", "app.web.api", "app.web.routes"))]


def test_a_day_is_23_or_25_hours_long_when_the_clocks_change():
    spring = day_bounds(date(2030, 3, 31), LONDON)
    autumn = day_bounds(date(2030, 10, 27), LONDON)
    assert (spring[1] - spring[0]) // MINUTE == 23 * 60
    assert (autumn[1] - autumn[0]) // MINUTE == 25 * 60


def test_hour_marks_on_an_ordinary_day_are_one_an_hour():
    marks = hour_marks(DAY, LONDON, 0, 24 * 60)
    assert [m["top"] for m in marks] == [hour * 60 for hour in range(24)]
    assert marks[9]["label"] == "09:00"


def test_hour_marks_follow_real_time_on_a_clock_change_day():
    spring = [(m["top"], m["label"]) for m in hour_marks(date(2030, 3, 31), LONDON, 0, 23 * 60)]
    assert spring[:3] == [(0, "00:00"), (60, "02:00"), (120, "03:00")]
    autumn = [(m["top"], m["label"]) for m in hour_marks(date(2030, 10, 27), LONDON, 0, 25 * 60)]
    assert autumn[:3] == [(0, "00:00"), (60, "01:00"), (120, "01:00")]


def test_a_span_is_clipped_to_the_day():
    bounds = day_bounds(DAY, UTC)
    assert span("2030-01-06T22:00:00Z", "2030-01-07T01:30:00Z", bounds) == (0, 90)
    assert span(_at("23:00"), _at("23:00") + 3 * 60 * MINUTE, bounds) == (23 * 60, 24 * 60)


def test_overlapping_bookings_take_lanes_side_by_side():
    items = [{"top": 600, "end": 660}, {"top": 630, "end": 690}, {"top": 660, "end": 720}]
    assign_lanes(items)
    assert [(i["top"], i["lane"]) for i in items] == [(600, 0), (630, 1), (660, 0)]
    assert {i["lanes"] for i in items} == {2}


def test_a_very_short_booking_still_holds_room_for_its_name():
    items = [{"top": 600, "end": 601}, {"top": 610, "end": 640}]
    assign_lanes(items)
    assert [i["lane"] for i in items] == [0, 1]


def test_gaps_are_the_closed_time_between_openings():
    assert gaps([(540, 720), (780, 1020)], 480, 1080) == [(480, 540), (720, 780), (1020, 1080)]
    assert gaps([(400, 1200)], 480, 1080) == []


def test_the_grid_shows_eight_to_six_and_shades_outside_opening_hours():
    view = _grid([_resource()])
    assert (view["first"], view["last"]) == (8 * 60, 18 * 60)
    assert view["columns"][0]["closed"] == [(480, 540), (1020, 1080)]
    assert [m["label"] for m in view["hours"]][0] == "08:00" and len(view["hours"]) == 10


def test_an_early_booking_widens_the_grid_to_its_whole_hour():
    booked = _booking("2030-01-07T06:30:00Z", "2030-01-07T07:00:00Z", customer_id="cu_1")
    view = _grid([_resource()], bookings=[booked], customers={"cu_1": {"name": "Ada"}})
    assert view["first"] == 6 * 60
    entry = view["columns"][0]["entries"][0]
    assert (entry["top"], entry["end"], entry["customer"]) == (390, 420, {"name": "Ada"})


def test_all_day_blockers_and_always_open_resources_do_not_widen_the_grid():
    blocker = {
        "resource_id": "rs_2",
        "title": None,
        "all_day": True,
        "occurrences": [{"start_time": "2030-01-07T00:00:00Z", "end_time": "2030-01-08T00:00:00Z"}],
    }
    view = _grid([_resource(), _resource("rs_2", business_hours=None)], blockers=[blocker])
    assert (view["first"], view["last"]) == (8 * 60, 18 * 60)
    always_open = view["columns"][1]
    assert always_open["closed"] == []
    assert always_open["blocked"][0]["title"] == "Blocked"
    assert (always_open["blocked"][0]["top"], always_open["blocked"][0]["end"]) == (0, 24 * 60)
