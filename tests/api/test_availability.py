"""Availability (API.md §2): free slots inside business hours, clear of bookings and blockers.

2030-01-07 is a Monday. Europe/Berlin springs forward on Sunday 2030-03-31 and falls back on
Sunday 2030-10-27.
"""

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import assert_error, unchanged

RESOURCES = "/modules/booking/resources"
BOOKINGS = "/modules/booking/bookings"
BLOCKERS = "/modules/booking/blockers"
MONDAY = "2030-01-07"
NINE_TO_FIVE = {"mon": [["09:00", "17:00"]]}
EVERY_DAY_NINE_TO_FIVE = {
    day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def _url(resource_id: str, **params: Any) -> str:
    params = {("from" if k == "from_" else k): v for k, v in params.items()}
    return f"{RESOURCES}/{resource_id}/availability?{urlencode(params)}"


@pytest.fixture
def slots(client, read_headers):
    """The free slots as (start_time, end_time) pairs; asserts the 200 envelope."""

    def get(resource_id: str, **params: Any) -> list[tuple[str, str]]:
        response = client.get(_url(resource_id, **params), headers=read_headers)
        assert response.status_code == 200, response.json
        assert response.json["status"] == "ok"
        assert all(set(slot) == {"start_time", "end_time"} for slot in response.json["data"])
        return [(slot["start_time"], slot["end_time"]) for slot in response.json["data"]]

    return get


@pytest.fixture
def cancel(client, write_headers):
    def post(booking_id: str) -> None:
        response = client.post(
            f"{BOOKINGS}/{booking_id}/transition",
            json={"status": "cancelled"},
            headers=write_headers,
        )
        assert response.status_code == 200, response.json

    return post


@pytest.fixture
def block(client, write_headers):
    def post(resource_id: str, start_time: str, end_time: str, **extra: Any) -> dict[str, Any]:
        body = {"resource_id": resource_id, "start_time": start_time, "end_time": end_time}
        response = client.post(BLOCKERS, json={**body, **extra}, headers=write_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return post


def _at(day: str, *times: str) -> list[str]:
    return [f"{day}T{hhmm}:00Z" for hhmm in times]


def _starts(found: list[tuple[str, str]]) -> list[str]:
    return [start for start, _ in found]


def _quarter_hours(first: str, last: str) -> list[str]:
    """HH:MM from first to last inclusive, every 15 minutes, within one day."""
    h, m = (int(x) for x in first.split(":"))
    out = []
    while f"{h:02d}:{m:02d}" <= last:
        out.append(f"{h:02d}:{m:02d}")
        m += 15
        h, m = h + m // 60, m % 60
    return out


# --- the query ---------------------------------------------------------------------------------


def test_returns_slots_of_the_default_duration_every_15_minutes(slots, make_resource):
    resource = make_resource()
    found = slots(resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T12:00:00Z")
    assert found == [
        (f"{MONDAY}T10:00:00Z", f"{MONDAY}T11:00:00Z"),
        (f"{MONDAY}T10:15:00Z", f"{MONDAY}T11:15:00Z"),
        (f"{MONDAY}T10:30:00Z", f"{MONDAY}T11:30:00Z"),
        (f"{MONDAY}T10:45:00Z", f"{MONDAY}T11:45:00Z"),
        (f"{MONDAY}T11:00:00Z", f"{MONDAY}T12:00:00Z"),
    ]


def test_default_duration_is_the_resources_default(slots, make_resource):
    resource = make_resource(default_duration_minutes=30)
    found = slots(resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T11:00:00Z")
    assert found == [
        (f"{MONDAY}T10:00:00Z", f"{MONDAY}T10:30:00Z"),
        (f"{MONDAY}T10:15:00Z", f"{MONDAY}T10:45:00Z"),
        (f"{MONDAY}T10:30:00Z", f"{MONDAY}T11:00:00Z"),
    ]


def test_duration_and_step_can_be_given(slots, make_resource):
    resource = make_resource()
    found = slots(
        resource["id"],
        from_=f"{MONDAY}T10:00:00Z",
        to=f"{MONDAY}T12:00:00Z",
        duration_minutes=45,
        step_minutes=40,
    )
    assert found == [
        (f"{MONDAY}T10:00:00Z", f"{MONDAY}T10:45:00Z"),
        (f"{MONDAY}T10:40:00Z", f"{MONDAY}T11:25:00Z"),
    ]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"to": f"{MONDAY}T12:00:00Z"}, "from"),
        ({"from_": f"{MONDAY}T10:00:00Z"}, "to"),
        ({"from_": f"{MONDAY}T10:00:00Z", "to": f"{MONDAY}T10:00:00Z"}, "to"),
        ({"from_": f"{MONDAY}T10:00:00Z", "to": f"{MONDAY}T09:00:00Z"}, "to"),
        ({"from_": "2030-01-01T00:00:00Z", "to": "2030-02-01T00:01:00Z"}, "to"),
        ({"from_": "2030-01-01T00:00:00Z", "to": "2030-06-01T00:00:00Z"}, "to"),
        ({"from_": f"{MONDAY} 10:00", "to": f"{MONDAY}T12:00:00Z"}, "from"),
        ({"from_": f"{MONDAY}T10:00:00Z", "to": f"{MONDAY}T12:00:00+01:00"}, "to"),
        ({"from_": "2030-02-29T10:00:00Z", "to": "2030-03-01T12:00:00Z"}, "from"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"duration_minutes": "abc"}, "duration_minutes"),
        ({"duration_minutes": -5}, "duration_minutes"),
        ({"step_minutes": 0}, "step_minutes"),
        ({"step_minutes": 1441}, "step_minutes"),
        ({"step_minutes": "1.5"}, "step_minutes"),
    ],
)
def test_invalid_query_is_422_naming_the_parameter(
    client, db, read_headers, make_resource, params, field
):
    resource = make_resource()
    window = {"from_": f"{MONDAY}T10:00:00Z", "to": f"{MONDAY}T12:00:00Z"}
    if "from_" in params or "to" in params:
        window = {}
    with unchanged(db):
        response = client.get(_url(resource["id"], **window, **params), headers=read_headers)
    error = assert_error(response, 422, "validation_error")
    assert field in [detail["field"] for detail in error["details"]]


@pytest.mark.parametrize(
    "params, count",
    [
        ({"duration_minutes": 1, "step_minutes": 1}, 120),
        ({"duration_minutes": 1440, "step_minutes": 60}, 0),  # longer than the window
        ({"duration_minutes": 30, "step_minutes": 1440}, 1),  # local midnight only
    ],
)
def test_duration_and_step_bounds_are_accepted(slots, make_resource, params, count):
    resource = make_resource()
    found = slots(resource["id"], from_=f"{MONDAY}T00:00:00Z", to=f"{MONDAY}T02:00:00Z", **params)
    assert len(found) == count
    assert all(start[11:13] in ("00", "01") for start, _ in found)


def test_window_of_exactly_31_days_is_accepted(slots, make_resource):
    resource = make_resource()
    found = slots(
        resource["id"],
        from_="2030-01-01T00:00:00Z",
        to="2030-02-01T00:00:00Z",
        duration_minutes=1440,
        step_minutes=1440,
    )
    assert len(found) == 31
    assert found[0] == ("2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z")
    assert found[-1] == ("2030-01-31T00:00:00Z", "2030-02-01T00:00:00Z")


def test_unknown_resource_is_404(client, read_headers):
    response = client.get(
        _url("res_nope", from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T12:00:00Z"),
        headers=read_headers,
    )
    assert_error(response, 404, "not_found")


def test_query_validation_comes_before_the_resource_lookup(client, read_headers):
    response = client.get(_url("res_nope", from_=f"{MONDAY}T10:00:00Z"), headers=read_headers)
    assert_error(response, 422, "validation_error")


def test_availability_needs_a_key(client, make_resource):
    resource = make_resource()
    response = client.get(
        _url(resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T12:00:00Z")
    )
    assert_error(response, 401, "unauthorized")


def test_unknown_query_parameters_are_ignored(slots, make_resource):
    resource = make_resource()
    found = slots(
        resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T11:00:00Z", colour="blue"
    )
    assert found == [(f"{MONDAY}T10:00:00Z", f"{MONDAY}T11:00:00Z")]


# --- business hours ----------------------------------------------------------------------------


def test_slots_lie_inside_business_hours_in_the_resources_timezone(slots, make_resource):
    resource = make_resource(
        timezone="Europe/Berlin", business_hours={"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}
    )
    found = slots(
        resource["id"], from_=f"{MONDAY}T00:00:00Z", to="2030-01-08T00:00:00Z", step_minutes=60
    )
    # 09:00-12:00 and 13:00-17:00 Berlin are 08:00-11:00Z and 12:00-16:00Z in January
    assert _starts(found) == _at(
        MONDAY, "08:00", "09:00", "10:00", "12:00", "13:00", "14:00", "15:00"
    )


def test_days_absent_from_business_hours_are_closed(slots, make_resource):
    resource = make_resource(business_hours=NINE_TO_FIVE)
    assert slots(resource["id"], from_="2030-01-08T00:00:00Z", to="2030-01-13T00:00:00Z") == []
    assert slots(resource["id"], from_="2030-01-14T00:00:00Z", to="2030-01-15T00:00:00Z") != []


def test_empty_business_hours_mean_always_closed(slots, make_resource):
    resource = make_resource(business_hours={})
    assert slots(resource["id"], from_="2030-01-07T00:00:00Z", to="2030-01-14T00:00:00Z") == []


def test_no_business_hours_means_always_open(slots, make_resource):
    resource = make_resource(timezone="Europe/Berlin")
    found = slots(
        resource["id"],
        from_="2030-01-12T00:00:00Z",  # a Saturday
        to="2030-01-13T00:00:00Z",
        duration_minutes=60,
        step_minutes=60,
    )
    assert len(found) == 24


def test_slots_start_on_steps_from_the_opening(slots, make_resource):
    resource = make_resource(business_hours=NINE_TO_FIVE)
    found = slots(resource["id"], from_=f"{MONDAY}T09:10:00Z", to=f"{MONDAY}T10:45:00Z")
    assert _starts(found) == _at(MONDAY, "09:15", "09:30", "09:45")


def test_slot_must_end_by_closing_time_and_by_the_windows_end(slots, make_resource):
    resource = make_resource(business_hours=NINE_TO_FIVE)
    found = slots(resource["id"], from_=f"{MONDAY}T15:30:00Z", to=f"{MONDAY}T20:00:00Z")
    assert _starts(found) == _at(MONDAY, "15:30", "15:45", "16:00")
    found = slots(resource["id"], from_=f"{MONDAY}T15:30:00Z", to=f"{MONDAY}T16:45:00Z")
    assert _starts(found) == _at(MONDAY, "15:30", "15:45")


# --- bookings, buffers and blockers ------------------------------------------------------------


@pytest.fixture
def busy_monday(make_resource, booked, block):
    """Open 09:00-17:00 UTC on Mondays, 15-minute buffer, a 12:00-13:00 booking and a
    15:00-15:30 blocker."""
    resource = make_resource(business_hours=NINE_TO_FIVE, buffer_minutes=15)
    booking = booked(resource["id"], f"{MONDAY}T12:00:00Z")
    blocker = block(resource["id"], f"{MONDAY}T15:00:00Z", f"{MONDAY}T15:30:00Z")
    return resource, booking, blocker


BUSY_MONDAY_FREE = [
    *_quarter_hours("09:00", "10:45"),  # the slot plus its buffer ends by 12:00
    *_quarter_hours("13:15", "13:45"),  # after the booking's buffer, clear of 15:00
    *_quarter_hours("15:30", "16:00"),  # after the blocker, ending by 17:00
]


def test_slots_avoid_bookings_with_their_buffer_and_blockers(slots, busy_monday):
    resource, _, _ = busy_monday
    found = slots(resource["id"], from_=f"{MONDAY}T00:00:00Z", to="2030-01-08T00:00:00Z")
    assert _starts(found) == _at(MONDAY, *BUSY_MONDAY_FREE)
    assert all(end[11:16] == f"{int(start[11:13]) + 1:02d}{start[13:16]}" for start, end in found)


def test_every_slot_offered_can_be_booked_and_every_other_start_is_slot_conflict(
    db, slots, busy_monday, book, cancel
):
    resource, booking, blocker = busy_monday
    found = slots(resource["id"], from_=f"{MONDAY}T00:00:00Z", to="2030-01-08T00:00:00Z")
    offered = set(_starts(found))
    for start in _at(MONDAY, *_quarter_hours("09:00", "16:00")):
        if start in offered:
            response = book(resource["id"], start)
            assert response.status_code == 201, (start, response.json)
            cancel(response.json["data"]["id"])  # frees the slot for the next try
        else:
            with unchanged(db):
                response = book(resource["id"], start)
            error = assert_error(response, 422, "slot_conflict")
            message = error["details"][0]["message"]
            assert booking["id"] in message or blocker["id"] in message
    # nothing offered was taken for good
    again = slots(resource["id"], from_=f"{MONDAY}T00:00:00Z", to="2030-01-08T00:00:00Z")
    assert again == found


def test_slots_next_to_a_busy_one_are_refused(db, slots, busy_monday, book):
    resource, booking, _ = busy_monday
    found = _starts(slots(resource["id"], from_=f"{MONDAY}T00:00:00Z", to="2030-01-08T00:00:00Z"))
    # 10:45 is the last start before the booking; 11:00 would run its buffer into it
    assert f"{MONDAY}T10:45:00Z" in found and f"{MONDAY}T11:00:00Z" not in found
    with unchanged(db):
        error = assert_error(book(resource["id"], f"{MONDAY}T11:00:00Z"), 422, "slot_conflict")
    assert booking["id"] in error["details"][0]["message"]
    # 13:15 is the first after it; 13:00 would start inside the booking's buffer
    assert f"{MONDAY}T13:15:00Z" in found and f"{MONDAY}T13:00:00Z" not in found
    with unchanged(db):
        error = assert_error(book(resource["id"], f"{MONDAY}T13:00:00Z"), 422, "slot_conflict")
    assert booking["id"] in error["details"][0]["message"]


def test_cancelled_bookings_free_their_slots(slots, make_resource, booked, cancel):
    resource = make_resource(business_hours=NINE_TO_FIVE, buffer_minutes=15)
    window = {"from_": f"{MONDAY}T00:00:00Z", "to": "2030-01-08T00:00:00Z"}
    before = slots(resource["id"], **window)
    booking = booked(resource["id"], f"{MONDAY}T12:00:00Z")
    assert slots(resource["id"], **window) != before
    cancel(booking["id"])
    assert slots(resource["id"], **window) == before


def test_a_slots_own_buffer_must_not_run_into_a_booking_after_the_window(
    slots, make_resource, booked
):
    resource = make_resource(buffer_minutes=15)
    booked(resource["id"], f"{MONDAY}T11:00:00Z")
    found = slots(
        resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T11:00:00Z", duration_minutes=30
    )
    assert _starts(found) == _at(MONDAY, "10:00", "10:15")


def test_a_booking_that_began_before_the_window_holds_its_time(slots, make_resource, booked):
    resource = make_resource(buffer_minutes=10)
    booked(resource["id"], f"{MONDAY}T09:30:00Z")
    found = slots(
        resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T12:00:00Z", duration_minutes=30
    )
    # busy until 10:30 plus 10 minutes of buffer: the first quarter-hour after is 10:45
    assert _starts(found)[0] == f"{MONDAY}T10:45:00Z"


def test_bookings_on_other_resources_do_not_matter(slots, make_resource, booked):
    resource, other = make_resource(), make_resource(name="Chair 2")
    booked(other["id"], f"{MONDAY}T10:00:00Z")
    found = slots(resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T11:00:00Z")
    assert found == [(f"{MONDAY}T10:00:00Z", f"{MONDAY}T11:00:00Z")]


def test_a_blocker_that_began_before_the_window_holds_its_time(slots, make_resource, block):
    resource = make_resource()
    block(resource["id"], f"{MONDAY}T08:00:00Z", f"{MONDAY}T10:30:00Z")
    found = slots(
        resource["id"], from_=f"{MONDAY}T10:00:00Z", to=f"{MONDAY}T12:00:00Z", step_minutes=30
    )
    assert _starts(found) == _at(MONDAY, "10:30", "11:00")


def test_later_occurrences_of_a_recurring_blocker_remove_slots(slots, make_resource, block):
    resource = make_resource(business_hours=NINE_TO_FIVE)
    block(
        resource["id"], f"{MONDAY}T12:00:00Z", f"{MONDAY}T13:00:00Z", recurrence={"freq": "weekly"}
    )
    found = slots(
        resource["id"], from_="2030-01-21T00:00:00Z", to="2030-01-22T00:00:00Z", step_minutes=60
    )
    assert _starts(found) == _at(
        "2030-01-21", "09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"
    )


def test_rrule_blocker_removes_slots_on_its_weekdays_only(slots, make_resource, block):
    resource = make_resource()
    block(
        resource["id"],
        f"{MONDAY}T00:00:00Z",
        f"{MONDAY}T12:00:00Z",
        recurrence={"rrule": "FREQ=WEEKLY;BYDAY=MO,WE"},
    )
    window = {"duration_minutes": 60, "step_minutes": 60}
    wednesday = slots(
        resource["id"], from_="2030-01-16T00:00:00Z", to="2030-01-17T00:00:00Z", **window
    )
    thursday = slots(
        resource["id"], from_="2030-01-17T00:00:00Z", to="2030-01-18T00:00:00Z", **window
    )
    assert _starts(wednesday)[0] == "2030-01-16T12:00:00Z" and len(wednesday) == 12
    assert len(thursday) == 24


def test_all_day_blocker_closes_the_local_day(slots, make_resource, block):
    resource = make_resource(timezone="Europe/Berlin")
    block(resource["id"], f"{MONDAY}T10:00:00Z", f"{MONDAY}T11:00:00Z", all_day=True)
    found = slots(
        resource["id"],
        from_="2030-01-06T20:00:00Z",
        to="2030-01-08T02:00:00Z",
        step_minutes=60,
    )
    # Berlin's Monday is 2030-01-06T23:00Z .. 2030-01-07T23:00Z
    assert _starts(found) == [
        "2030-01-06T20:00:00Z",
        "2030-01-06T21:00:00Z",
        "2030-01-06T22:00:00Z",
        "2030-01-07T23:00:00Z",
        "2030-01-08T00:00:00Z",
        "2030-01-08T01:00:00Z",
    ]


def test_deleting_a_blocker_frees_its_slots(client, write_headers, slots, make_resource, block):
    resource = make_resource()
    window = {"from_": f"{MONDAY}T10:00:00Z", "to": f"{MONDAY}T11:00:00Z"}
    blocker = block(resource["id"], f"{MONDAY}T10:00:00Z", f"{MONDAY}T11:00:00Z")
    assert slots(resource["id"], **window) == []
    client.delete(f"{BLOCKERS}/{blocker['id']}", headers=write_headers)
    assert slots(resource["id"], **window) == [(f"{MONDAY}T10:00:00Z", f"{MONDAY}T11:00:00Z")]


# --- midnight and daylight saving --------------------------------------------------------------


def test_window_across_midnight_on_an_always_open_resource_is_continuous(slots, make_resource):
    resource = make_resource()
    found = slots(
        resource["id"],
        from_=f"{MONDAY}T22:00:00Z",
        to="2030-01-08T02:00:00Z",
        duration_minutes=60,
        step_minutes=30,
    )
    assert ("2030-01-07T23:30:00Z", "2030-01-08T00:30:00Z") in found
    assert _starts(found) == [
        *_at(MONDAY, "22:00", "22:30", "23:00", "23:30"),
        *_at("2030-01-08", "00:00", "00:30", "01:00"),
    ]


def test_business_hours_running_into_the_next_day_join_at_midnight(slots, make_resource):
    resource = make_resource(
        business_hours={"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]}
    )
    found = slots(
        resource["id"],
        from_=f"{MONDAY}T00:00:00Z",
        to="2030-01-09T00:00:00Z",
        duration_minutes=60,
        step_minutes=30,
    )
    assert ("2030-01-07T23:30:00Z", "2030-01-08T00:30:00Z") in found
    assert len(found) == 11


@pytest.mark.parametrize(
    "day, first, last",
    [
        ("2030-03-30", "08:00", "15:00"),  # Saturday, CET (UTC+1)
        ("2030-03-31", "07:00", "14:00"),  # Sunday, spring forward: CEST (UTC+2)
        ("2030-10-26", "07:00", "14:00"),  # Saturday, CEST
        ("2030-10-27", "08:00", "15:00"),  # Sunday, fall back: CET
    ],
)
def test_business_hours_follow_local_time_across_dst(slots, make_resource, day, first, last):
    resource = make_resource(timezone="Europe/Berlin", business_hours=EVERY_DAY_NINE_TO_FIVE)
    found = slots(resource["id"], from_=f"{day}T00:00:00Z", to=f"{day}T23:59:00Z")
    assert _starts(found) == _at(day, *_quarter_hours(first, last))  # 09:00 to 16:00 local


@pytest.mark.parametrize(
    "start, end",
    [
        ("2030-03-30T22:00:00Z", "2030-03-31T04:00:00Z"),  # spring forward at 01:00Z
        ("2030-10-26T22:00:00Z", "2030-10-27T04:00:00Z"),  # fall back at 01:00Z
    ],
)
def test_always_open_resource_has_no_hole_or_duplicate_across_dst(slots, make_resource, start, end):
    resource = make_resource(timezone="Europe/Berlin")
    found = slots(resource["id"], from_=start, to=end, duration_minutes=15, step_minutes=15)
    assert len(found) == 24  # six hours of quarter-hours
    assert found[0][0] == start and found[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(found, found[1:], strict=False))
