"""Issue 12 items 1-2 through HTTP: bounded recurrence, clear 422s, blockers stored before the
bounds, and the per-request deadline (503 request_too_expensive). Timing is never asserted here;
tests/live/test_expensive_requests.py checks /healthz against a real server, and `make bench`
prints the costs.
"""

from __future__ import annotations

from typing import Any

import pytest

from app import create_app, store
from tests.conftest import assert_error, store_blocker, unchanged

URL = "/modules/booking/blockers"
EVERY_HOUR = ",".join(str(hour) for hour in range(24))
EVERY_MINUTE = ",".join(str(minute) for minute in range(60))
PER_SECOND = f"FREQ=DAILY;BYHOUR={EVERY_HOUR};BYMINUTE={EVERY_MINUTE};BYSECOND={EVERY_MINUTE}"
MARCH = "from=2030-03-01T00:00:00Z&to=2030-04-01T00:00:00Z"


def _body(resource_id: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"resource_id": resource_id, "start_time": start, "end_time": end, **extra}


def _lunch(resource_id: str, rrule: str = "FREQ=DAILY") -> dict[str, Any]:
    return _body(
        resource_id, "2030-01-07T12:00:00Z", "2030-01-07T13:00:00Z", recurrence={"rrule": rrule}
    )


@pytest.fixture
def resource(make_resource) -> dict[str, Any]:
    return make_resource()


def _refused(client, db, headers, body) -> dict[str, str]:
    """POST the body; assert 422 validation_error changing nothing; return field -> message."""
    with unchanged(db):
        response = client.post(URL, json=body, headers=headers)
    error = assert_error(response, 422, "validation_error")
    return {detail["field"]: detail["message"] for detail in error["details"]}


# --- occurrences per day -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rrule, per_day",
    [
        (PER_SECOND, "86,400"),
        (f"FREQ=DAILY;BYHOUR={EVERY_HOUR};BYMINUTE=0,30", "48"),
        (f"FREQ=WEEKLY;BYDAY=MO;BYMINUTE={EVERY_MINUTE}", "60"),
        (f"FREQ=YEARLY;BYHOUR=9,10,11,12,13;BYSECOND={EVERY_MINUTE}", "300"),
    ],
)
def test_more_than_24_occurrences_a_day_is_refused_whatever_the_freq(
    client, db, write_headers, resource, rrule, per_day
):
    fields = _refused(client, db, write_headers, _lunch(resource["id"], rrule))
    assert fields["recurrence.rrule"] == (
        f"The rule occurs up to {per_day} times a day; a blocker may occur at most 24 times a "
        "day (count BYHOUR x BYMINUTE x BYSECOND)."
    )


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=DAILY",  # a lunch break
        "FREQ=DAILY;BYHOUR=10,12,15;BYMINUTE=0",  # a few breaks a day
        f"FREQ=DAILY;BYHOUR={EVERY_HOUR}",  # the most a day: 24
        "FREQ=WEEKLY;BYDAY=MO,TU;BYHOUR=0,6,12,18;BYMINUTE=0,15,30,45;BYSECOND=0",  # 16
        "FREQ=DAILY;BYHOUR=9,9,09",  # duplicates count once, as dateutil reads them
    ],
)
def test_up_to_24_occurrences_a_day_is_accepted(client, write_headers, resource, rrule):
    response = client.post(URL, json=_lunch(resource["id"], rrule), headers=write_headers)
    assert response.status_code == 201, response.json


# --- malformed rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rrule, message",
    [
        (
            "FREQ=DAILY;BYHOUR",
            "Write the rule as NAME=VALUE parts separated by semicolons, such as "
            "FREQ=WEEKLY;BYDAY=MO,WE; 'BYHOUR' is not one.",
        ),
        (
            "FREQ=DAILY;",
            "Write the rule as NAME=VALUE parts separated by semicolons, such as "
            "FREQ=WEEKLY;BYDAY=MO,WE; '' is not one.",
        ),
        (
            "FREQ=FORTNIGHTLY",
            "FREQ=FORTNIGHTLY is not valid: use DAILY, WEEKLY, MONTHLY or YEARLY.",
        ),
        ("FREQ=DAILY;BYHOUR=25", "BYHOUR=25 is not valid: see RFC 5545 section 3.3.10."),
        ("FREQ=DAILY;COLOUR=RED", "COLOUR=RED is not valid: see RFC 5545 section 3.3.10."),
        (
            "FREQ=DAILY;UNTIL=20300301",
            "UNTIL=20300301 is not valid: write it in UTC, such as UNTIL=20301231T230000Z.",
        ),
        (
            "FREQ=WEEKLY;BYDAY=XX",
            "BYDAY=XX is not valid: use MO, TU, WE, TH, FR, SA, SU, optionally numbered such "
            "as 1MO or -1FR.",
        ),
    ],
)
def test_a_malformed_rrule_gets_a_sentence_naming_the_part(
    client, db, write_headers, resource, rrule, message
):
    fields = _refused(client, db, write_headers, _lunch(resource["id"], rrule))
    assert fields == {"recurrence.rrule": message}


# --- lengths -------------------------------------------------------------------------------------


def test_a_4000_year_blocker_is_refused(client, db, write_headers, resource):
    body = _body(
        resource["id"],
        "2000-01-01T00:00:00Z",
        "6000-01-01T00:00:00Z",
        recurrence={"freq": "yearly", "count": 2},
    )
    fields = _refused(client, db, write_headers, body)
    assert fields == {
        "end_time": "A repeating blocker's occurrence lasts at most 31 days; end_time is the "
        "first occurrence's end, not the last one's."
    }
    del body["recurrence"]
    fields = _refused(client, db, write_headers, body)
    assert fields == {
        "end_time": "A blocker lasts at most 366 days; add another for a longer closure."
    }


@pytest.mark.parametrize(
    "end, recurrence, accepted",
    [
        ("2031-01-02T00:00:00Z", None, True),  # 366 days
        ("2031-01-02T00:00:00.001Z", None, False),
        ("2030-02-01T00:00:00Z", {"freq": "monthly"}, True),  # 31 days
        ("2030-02-01T00:01:00Z", {"freq": "monthly"}, False),
    ],
)
def test_length_bounds_are_inclusive(
    client, db, write_headers, resource, end, recurrence, accepted
):
    body = _body(resource["id"], "2030-01-01T00:00:00Z", end)
    if recurrence:
        body["recurrence"] = recurrence
    if accepted:
        assert client.post(URL, json=body, headers=write_headers).status_code == 201
    else:
        assert "end_time" in _refused(client, db, write_headers, body)


def test_the_bounds_are_in_the_openapi_document(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    assert "at most 366 days" in schemas["BlockerCreate"]["properties"]["end_time"]["description"]
    assert "at most 31 days" in schemas["BlockerCreate"]["properties"]["end_time"]["description"]
    # Issue 15 made Recurrence a oneOf of its two forms, and the 503 a shared answer.
    rrule_form = schemas["Recurrence"]["oneOf"][1]
    assert "at most 24 times a day" in rrule_form["properties"]["rrule"]["description"]
    document = client.get("/openapi.json").json
    availability = document["paths"]["/modules/booking/resources/{resource_id}/availability"]
    assert availability["get"]["responses"]["503"] == {"$ref": "#/components/responses/503"}
    assert "request_too_expensive" in document["components"]["responses"]["503"]["description"]


# --- expansion starts near the window ------------------------------------------------------------


def test_a_lunch_break_is_listed_in_year_8999(client, write_headers, read_headers, resource):
    client.post(URL, json=_lunch(resource["id"]), headers=write_headers)
    window = "from=8999-06-01T00:00:00Z&to=8999-06-02T00:00:00Z"
    response = client.get(f"{URL}?{window}", headers=read_headers)
    assert response.status_code == 200
    assert response.json["data"][0]["occurrences"] == [
        {"start_time": "8999-06-01T12:00:00Z", "end_time": "8999-06-01T13:00:00Z"}
    ]


def test_an_endless_rule_stops_at_year_9000(client, write_headers, read_headers, resource):
    body = _body(
        resource["id"],
        "2030-12-31T00:00:00Z",
        "2031-01-01T00:00:00Z",
        recurrence={"freq": "yearly"},
    )
    client.post(URL, json=body, headers=write_headers)
    response = client.get(f"{URL}?from=8998-06-01T00:00:00Z", headers=read_headers)
    assert response.status_code == 200
    assert [o["start_time"] for o in response.json["data"][0]["occurrences"]] == [
        "8998-12-31T00:00:00Z",
        "8999-12-31T00:00:00Z",
    ]


# --- blockers stored before the bounds -----------------------------------------------------------


def test_a_stored_4000_year_blocker_breaks_nothing(
    client, db, write_headers, read_headers, resource, book
):
    yearly = {"freq": "yearly", "count": 2}
    store_blocker(db, resource["id"], "2000-01-01T00:00:00Z", "6000-01-01T00:00:00Z", yearly)
    availability = f"/modules/booking/resources/{resource['id']}/availability?{MARCH}"
    assert client.get(availability, headers=read_headers).json["data"] == []
    assert_error(book(resource["id"], "2030-03-02T10:00:00Z"), 422, "slot_conflict")
    listed = client.get(f"{URL}?from=5999-06-01T00:00:00Z", headers=read_headers)
    assert listed.json["data"][0]["occurrences"] == [
        {"start_time": "2000-01-01T00:00:00Z", "end_time": "6000-01-01T00:00:00Z"},
        {"start_time": "2001-01-01T00:00:00Z", "end_time": "6001-01-01T00:00:00Z"},
    ]


def test_a_stored_occurrence_ending_past_year_9999_ends_at_9000(client, db, read_headers, resource):
    endless = {"freq": "yearly"}  # 3,999-year occurrences: from 6001 on they end after 9999
    store_blocker(db, resource["id"], "5000-01-01T00:00:00Z", "8999-01-01T00:00:00Z", endless)
    availability = "from=8999-03-01T00:00:00Z&to=8999-04-01T00:00:00Z"
    response = client.get(
        f"/modules/booking/resources/{resource['id']}/availability?{availability}",
        headers=read_headers,
    )
    assert (response.status_code, response.json["data"]) == (200, [])
    listed = client.get(f"{URL}?from=8999-12-31T00:00:00Z", headers=read_headers)
    assert len(listed.json["data"][0]["occurrences"]) == 100


@pytest.fixture
def tight_app(db_path):
    """The app with a 100 ms deadline, on the same database as `db`."""
    application = create_app({"TESTING": True, "DB": db_path, "REQUEST_DEADLINE_MS": 100})
    yield application
    store.close_thread_connections()


def test_a_stored_rule_of_one_occurrence_a_second_is_stopped_by_the_deadline(
    tight_app, db, read_headers, resource
):
    store_blocker(
        db, resource["id"], "2030-01-07T12:00:00Z", "2030-01-07T12:00:01Z", {"rrule": PER_SECOND}
    )
    client = tight_app.test_client()
    availability = f"/modules/booking/resources/{resource['id']}/availability?{MARCH}"
    response = client.get(availability, headers=read_headers)
    error = assert_error(response, 503, "request_too_expensive")
    assert error["message"] == (
        "This request needed more than 0.1 s of work and was stopped; ask for a shorter window "
        "(from/to), or retry when the server is less busy."
    )
    assert response.headers["Retry-After"] == "5"
    assert client.get("/healthz").status_code == 200
    assert (
        client.get(f"/modules/booking/resources/{resource['id']}", headers=read_headers).json[
            "data"
        ]
        == resource
    )


# --- the deadline ---------------------------------------------------------------------------------


@pytest.fixture
def no_time_app(db_path):
    """The app with a deadline already past when the first loop checks it."""
    application = create_app({"TESTING": True, "DB": db_path, "REQUEST_DEADLINE_MS": -1})
    yield application
    store.close_thread_connections()


def test_a_blocker_create_past_its_deadline_is_503_and_leaves_nothing(
    no_time_app, db, write_headers, read_headers, resource, booked
):
    booked(resource["id"], "2030-01-07T12:00:00Z")
    client = no_time_app.test_client()
    listed = client.get(URL, headers=read_headers).json
    with unchanged(db):
        response = client.post(URL, json=_lunch(resource["id"]), headers=write_headers)
    assert_error(response, 503, "request_too_expensive")
    assert client.get(URL, headers=read_headers).json == listed


def test_requests_without_expensive_loops_ignore_the_deadline(no_time_app, read_headers, resource):
    client = no_time_app.test_client()
    assert client.get("/modules/booking/resources", headers=read_headers).status_code == 200
    assert client.get("/healthz").json["data"]["db"] == "ok"
