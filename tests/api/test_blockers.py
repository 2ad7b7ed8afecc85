"""Blockers (API.md §5): every field bound, recurrence form, conflict and list rule, via HTTP.

2030-01-07 is a Monday; Europe/Berlin is UTC+1 in January.
"""

from typing import Any

import pytest

from tests.conftest import assert_error, unchanged

URL = "/modules/booking/blockers"
BOOKINGS = "/modules/booking/bookings"
START, END = "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z"


def _fields(error: dict[str, Any]) -> list[str]:
    return [detail["field"] for detail in error["details"]]


def _body(resource_id: str, **overrides: Any) -> dict[str, Any]:
    return {"resource_id": resource_id, "start_time": START, "end_time": END, **overrides}


@pytest.fixture
def resource(make_resource) -> dict[str, Any]:
    return make_resource()


@pytest.fixture
def berlin(make_resource) -> dict[str, Any]:
    return make_resource(name="Berlin chair", timezone="Europe/Berlin")


@pytest.fixture
def create(client, write_headers):
    """POST a blocker; returns the whole 201 body (data and meta)."""

    def post(resource_id: str, **overrides: Any) -> dict[str, Any]:
        response = client.post(URL, json=_body(resource_id, **overrides), headers=write_headers)
        assert response.status_code == 201, response.json
        return response.json

    return post


# --- create ------------------------------------------------------------------------------------


def test_create_returns_201_with_every_field_and_no_conflicts(client, write_headers, resource):
    body = _body(
        resource["id"],
        title="Staff meeting",
        all_day=False,
        recurrence={"freq": "weekly", "interval": 2, "count": 5, "by_weekday": ["MO", "WE"]},
        metadata={"room": "back"},
    )
    response = client.post(URL, json=body, headers=write_headers)
    assert response.status_code == 201
    assert response.json["status"] == "ok"
    assert response.json["meta"] == {"conflicting_booking_ids": []}
    data = response.json["data"]
    assert data["id"].startswith("blk_")
    assert {k: data[k] for k in body} == body
    assert data["created_at"].endswith("Z") and data["created_at"] == data["updated_at"]
    assert "occurrences" not in data


def test_minimal_create_fills_defaults(create, resource):
    data = create(resource["id"])["data"]
    assert data["title"] is None and data["all_day"] is False
    assert data["recurrence"] is None and data["metadata"] == {}
    assert (data["start_time"], data["end_time"]) == (START, END)


def test_unknown_resource_is_422_and_changes_nothing(client, db, write_headers):
    with unchanged(db):
        response = client.post(URL, json=_body("res_nope"), headers=write_headers)
    assert_error(response, 422, "unknown_resource")


def test_body_validation_comes_before_the_resource_lookup(client, db, write_headers):
    with unchanged(db):
        response = client.post(URL, json=_body("res_nope", colour="red"), headers=write_headers)
    assert _fields(assert_error(response, 422, "validation_error")) == ["colour"]


def test_title_of_500_characters_is_accepted(create, resource):
    assert create(resource["id"], title="x" * 500)["data"]["title"] == "x" * 500


def _without(key: str) -> dict[str, Any]:
    body = _body("RID")
    del body[key]
    return body


@pytest.mark.parametrize(
    "body, field",
    [
        (_without("resource_id"), "resource_id"),
        (_without("start_time"), "start_time"),
        (_without("end_time"), "end_time"),
        (_body("RID", title="x" * 501), "title"),
        (_body("RID", title=5), "title"),
        (_body("RID", end_time=START), "end_time"),
        (_body("RID", end_time="2030-01-07T09:00:00Z"), "end_time"),
        (_body("RID", start_time="2030-01-07 10:00"), "start_time"),
        (_body("RID", start_time="2030-01-07T10:00:00+01:00"), "start_time"),
        (_body("RID", start_time="2030-01-07T10:00:00"), "start_time"),
        (_body("RID", start_time="2030-01-07"), "start_time"),
        (_body("RID", start_time=1893924000), "start_time"),
        (_body("RID", end_time="2030-02-29T10:00:00Z"), "end_time"),
        (_body("RID", end_time="2030-01-07T24:00:00Z"), "end_time"),
        (_body("RID", all_day="true"), "all_day"),
        (_body("RID", all_day=1), "all_day"),
        (_body("RID", all_day=None), "all_day"),
        (_body("RID", metadata=[]), "metadata"),
        (_body("RID", metadata={"blob": "x" * 16400}), "metadata"),
        (_body("RID", colour="red"), "colour"),
        (_body("RID", recurrence="weekly"), "recurrence"),
        (_body("RID", recurrence={}), "recurrence.freq"),
        (_body("RID", recurrence={"freq": "weekly", "colour": 1}), "recurrence.colour"),
        (_body("RID", recurrence={"freq": "hourly"}), "recurrence.freq"),
        (_body("RID", recurrence={"freq": "WEEKLY"}), "recurrence.freq"),
        (_body("RID", recurrence={"freq": "weekly", "interval": 0}), "recurrence.interval"),
        (_body("RID", recurrence={"freq": "weekly", "interval": 366}), "recurrence.interval"),
        (_body("RID", recurrence={"freq": "weekly", "interval": "2"}), "recurrence.interval"),
        (_body("RID", recurrence={"freq": "weekly", "count": 0}), "recurrence.count"),
        (_body("RID", recurrence={"freq": "weekly", "count": 1001}), "recurrence.count"),
        (
            _body(
                "RID", recurrence={"freq": "weekly", "count": 3, "until": "2030-03-01T00:00:00Z"}
            ),
            "recurrence.count",
        ),
        (_body("RID", recurrence={"freq": "weekly", "until": "2030-03-01"}), "recurrence.until"),
        (
            _body("RID", recurrence={"freq": "weekly", "by_weekday": ["XX"]}),
            "recurrence.by_weekday.0",
        ),
        (
            _body("RID", recurrence={"freq": "weekly", "by_weekday": ["mo"]}),
            "recurrence.by_weekday.0",
        ),
        (_body("RID", recurrence={"freq": "weekly", "by_weekday": []}), "recurrence.by_weekday"),
        (_body("RID", recurrence={"freq": "weekly", "by_weekday": "MO"}), "recurrence.by_weekday"),
        (_body("RID", recurrence={"rrule": ""}), "recurrence.rrule"),
        (_body("RID", recurrence={"rrule": "FREQ=WEEKLY", "freq": "weekly"}), "recurrence.rrule"),
        (_body("RID", recurrence={"rrule": "FREQ=DAILY", "count": 2}), "recurrence.rrule"),
    ],
)
def test_invalid_create_is_422_naming_the_field_and_changes_nothing(
    client, db, write_headers, resource, body, field
):
    body = {k: resource["id"] if v == "RID" else v for k, v in body.items()}
    with unchanged(db):
        response = client.post(URL, json=body, headers=write_headers)
    assert field in _fields(assert_error(response, 422, "validation_error"))


def test_every_field_error_is_reported_at_once(client, write_headers, resource):
    body = _body(resource["id"], title="x" * 501, all_day="yes", bogus=1)
    del body["start_time"]
    response = client.post(URL, json=body, headers=write_headers)
    fields = set(_fields(assert_error(response, 422, "validation_error")))
    assert fields == {"title", "all_day", "bogus", "start_time"}


@pytest.mark.parametrize(
    "recurrence",
    [
        {"freq": "daily"},
        {"freq": "weekly"},
        {"freq": "monthly"},
        {"freq": "yearly"},
        {"freq": "daily", "interval": 1},
        {"freq": "daily", "interval": 365},
        {"freq": "weekly", "count": 1},
        {"freq": "weekly", "count": 1000},
        {"freq": "weekly", "until": "2030-06-01T00:00:00Z"},
        {"freq": "weekly", "by_weekday": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]},
        {"rrule": "FREQ=WEEKLY;BYDAY=MO"},
        {"rrule": "RRULE:FREQ=WEEKLY;BYDAY=MO"},
        {"rrule": "FREQ=DAILY;COUNT=3"},
        {"rrule": "FREQ=MONTHLY;BYMONTHDAY=7;UNTIL=20301231T000000Z"},
        {"rrule": "FREQ=YEARLY;INTERVAL=2"},
    ],
)
def test_recurrence_within_bounds_is_accepted_and_echoed(create, resource, recurrence):
    assert create(resource["id"], recurrence=recurrence)["data"]["recurrence"] == recurrence


@pytest.mark.parametrize(
    "rrule",
    [
        "not a rule",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=FORTNIGHTLY",
        "FREQ=WEEKLY;INTERVAL=abc",
        "BYDAY=MO",
        "FREQ=HOURLY",
        "FREQ=MINUTELY;COUNT=5",
        "freq=secondly",
        "DTSTART:20300107T100000Z\nRRULE:FREQ=WEEKLY",
        "DTSTART=20300107T100000Z;FREQ=WEEKLY",
        "FREQ=WEEKLY;UNTIL=20300301T000000",
    ],
)
def test_unusable_rrule_is_422_naming_recurrence_rrule_and_changes_nothing(
    client, db, write_headers, resource, rrule
):
    body = _body(resource["id"], recurrence={"rrule": rrule})
    with unchanged(db):
        response = client.post(URL, json=body, headers=write_headers)
    assert "recurrence.rrule" in _fields(assert_error(response, 422, "validation_error"))


@pytest.mark.parametrize(
    "rrule",
    [
        # RFC 5545 §3.3.10: INTERVAL is a positive integer. dateutil accepts 0 and then yields
        # the first occurrence forever, so any later window never ends (bookings hang).
        "FREQ=WEEKLY;INTERVAL=0",
        # RFC 5545: COUNT and UNTIL MUST NOT occur together (the structured form refuses it too).
        "FREQ=WEEKLY;COUNT=2;UNTIL=20300301T000000Z",
    ],
)
def test_rrule_the_rfc_forbids_is_422_naming_recurrence_rrule(
    client, db, write_headers, resource, rrule
):
    body = _body(resource["id"], recurrence={"rrule": rrule})
    with unchanged(db):
        response = client.post(URL, json=body, headers=write_headers)
    assert "recurrence.rrule" in _fields(assert_error(response, 422, "validation_error"))


def test_create_needs_write_scope_and_a_key(client, db, read_headers, resource):
    with unchanged(db):
        assert_error(
            client.post(URL, json=_body(resource["id"]), headers=read_headers), 403, "forbidden"
        )
        assert_error(client.post(URL, json=_body(resource["id"])), 401, "unauthorized")


def test_body_that_is_not_an_object_is_400(client, db, write_headers):
    with unchanged(db):
        response = client.post(URL, json=["x"], headers=write_headers)
    assert_error(response, 400, "bad_request")


def test_idempotency_key_replays_the_first_create(client, db, write_headers, resource):
    headers = {**write_headers, "Idempotency-Key": "blk-1"}
    first = client.post(URL, json=_body(resource["id"]), headers=headers)
    again = client.post(URL, json=_body(resource["id"]), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert db.execute("SELECT COUNT(*) FROM blockers").fetchone()[0] == 1


# --- all_day -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, widened",
    [
        (START, END, ("2030-01-06T23:00:00Z", "2030-01-07T23:00:00Z")),
        # an end already at local midnight stays put
        (START, "2030-01-07T23:00:00Z", ("2030-01-06T23:00:00Z", "2030-01-07T23:00:00Z")),
        # a start already at local midnight stays put too
        (
            "2030-01-06T23:00:00Z",
            "2030-01-07T23:00:00Z",
            ("2030-01-06T23:00:00Z", "2030-01-07T23:00:00Z"),
        ),
        # a multi-day span covers every day it touches
        (START, "2030-01-09T05:00:00Z", ("2030-01-06T23:00:00Z", "2030-01-09T23:00:00Z")),
        # 23:30 UTC is already the next local day in Berlin
        (
            "2030-01-07T23:30:00Z",
            "2030-01-08T00:30:00Z",
            ("2030-01-07T23:00:00Z", "2030-01-08T23:00:00Z"),
        ),
        # the spring-forward Sunday is 23 hours long
        (
            "2030-03-31T10:00:00Z",
            "2030-03-31T11:00:00Z",
            ("2030-03-30T23:00:00Z", "2030-03-31T22:00:00Z"),
        ),
        # the autumn Sunday is 25 hours long
        (
            "2030-10-27T10:00:00Z",
            "2030-10-27T11:00:00Z",
            ("2030-10-26T22:00:00Z", "2030-10-27T23:00:00Z"),
        ),
    ],
)
def test_all_day_widens_to_whole_days_in_the_resources_timezone(
    create, berlin, start, end, widened
):
    data = create(berlin["id"], start_time=start, end_time=end, all_day=True)["data"]
    assert data["all_day"] is True
    assert (data["start_time"], data["end_time"]) == widened


def test_all_day_on_a_utc_resource_is_utc_midnight_to_midnight(create, resource):
    data = create(resource["id"], all_day=True)["data"]
    assert (data["start_time"], data["end_time"]) == (
        "2030-01-07T00:00:00Z",
        "2030-01-08T00:00:00Z",
    )


def test_not_all_day_keeps_the_times_as_given(create, berlin):
    data = create(berlin["id"], all_day=False)["data"]
    assert (data["start_time"], data["end_time"], data["all_day"]) == (START, END, False)


# --- bookings in the way -----------------------------------------------------------------------


def _cancel(client, headers, booking_id):
    response = client.post(
        f"{BOOKINGS}/{booking_id}/transition", json={"status": "cancelled"}, headers=headers
    )
    assert response.status_code == 200, response.json


def test_blocker_over_active_bookings_lists_them_and_is_still_created(
    client, write_headers, resource, create, booked
):
    inside = booked(resource["id"], "2030-01-07T12:00:00Z")
    overlapping_start = booked(resource["id"], "2030-01-07T08:30:00Z")
    booked(resource["id"], "2030-01-07T17:00:00Z")  # touches the end: not in the way
    booked(resource["id"], "2030-01-07T07:00:00Z")  # ends 08:00, touching: not in the way
    cancelled = booked(resource["id"], "2030-01-07T14:00:00Z")
    _cancel(client, write_headers, cancelled["id"])
    body = create(
        resource["id"], start_time="2030-01-07T08:00:00Z", end_time="2030-01-07T17:00:00Z"
    )
    assert sorted(body["meta"]["conflicting_booking_ids"]) == sorted(
        [inside["id"], overlapping_start["id"]]
    )
    assert body["data"]["id"].startswith("blk_")
    for booking in (inside, overlapping_start):
        got = client.get(f"{BOOKINGS}/{booking['id']}", headers=write_headers).json["data"]
        assert got["status"] == "pending"


def test_bookings_of_other_resources_are_not_in_the_way(create, resource, make_resource, booked):
    other = make_resource(name="Chair 2")
    booked(other["id"], START)
    assert create(resource["id"])["meta"]["conflicting_booking_ids"] == []


def test_weekly_blocker_lists_a_booking_three_weeks_later(create, resource, booked):
    later = booked(resource["id"], "2030-01-28T10:30:00Z")
    booked(resource["id"], "2030-01-29T10:30:00Z")  # a Tuesday: not an occurrence
    body = create(resource["id"], recurrence={"freq": "weekly"})
    assert body["meta"]["conflicting_booking_ids"] == [later["id"]]


def test_rrule_blocker_lists_a_booking_on_a_later_occurrence(create, resource, booked):
    later = booked(resource["id"], "2030-01-21T10:00:00Z")
    body = create(resource["id"], recurrence={"rrule": "RRULE:FREQ=WEEKLY;BYDAY=MO"})
    assert body["meta"]["conflicting_booking_ids"] == [later["id"]]


def test_all_day_blocker_lists_the_days_bookings(create, berlin, booked):
    evening = booked(berlin["id"], "2030-01-07T21:00:00Z")  # 22:00 Berlin
    booked(berlin["id"], "2030-01-07T23:00:00Z")  # next local day
    body = create(berlin["id"], all_day=True)
    assert body["meta"]["conflicting_booking_ids"] == [evening["id"]]


def test_count_limited_blocker_ignores_bookings_after_its_last_occurrence(create, resource, booked):
    second = booked(resource["id"], "2030-01-14T10:00:00Z")
    booked(resource["id"], "2030-01-21T10:00:00Z")
    body = create(resource["id"], recurrence={"freq": "weekly", "count": 2})
    assert body["meta"]["conflicting_booking_ids"] == [second["id"]]


# --- blockers stop bookings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "start_time, minutes",
    [
        ("2030-01-07T10:00:00Z", 60),  # the first occurrence exactly
        ("2030-01-07T09:30:00Z", 60),  # runs into it
        ("2030-01-07T10:59:00Z", 30),  # starts in its last minute
        ("2030-01-07T10:15:00Z", 15),  # inside it
        ("2030-01-07T09:00:00Z", 180),  # around it
        ("2030-01-21T10:30:00Z", 60),  # the 3rd Monday
        ("2031-01-06T10:30:00Z", 60),  # a year later
    ],
)
def test_booking_over_any_occurrence_is_slot_conflict_naming_the_blocker(
    client, db, create, resource, book, start_time, minutes
):
    blocker = create(resource["id"], recurrence={"freq": "weekly"})["data"]
    with unchanged(db):
        response = book(resource["id"], start_time, minutes)
    error = assert_error(response, 422, "slot_conflict")
    assert blocker["id"] in error["details"][0]["message"]


@pytest.mark.parametrize(
    "start_time, minutes",
    [
        ("2030-01-07T11:00:00Z", 60),  # starts as it ends
        ("2030-01-07T09:00:00Z", 60),  # ends as it starts
        ("2030-01-08T10:00:00Z", 60),  # a Tuesday
        ("2030-01-21T11:00:00Z", 60),  # touching the 3rd occurrence
    ],
)
def test_booking_touching_or_between_occurrences_is_fine(
    create, resource, booked, start_time, minutes
):
    create(resource["id"], recurrence={"freq": "weekly"})
    booked(resource["id"], start_time, minutes)


def test_booking_after_the_last_counted_occurrence_is_fine(create, resource, book, booked):
    create(resource["id"], recurrence={"freq": "weekly", "count": 3})
    assert_error(book(resource["id"], "2030-01-21T10:00:00Z"), 422, "slot_conflict")
    booked(resource["id"], "2030-01-28T10:00:00Z")


def test_booking_whose_buffer_runs_into_a_blocker_is_refused(
    client, db, create, make_resource, book, booked
):
    resource = make_resource(buffer_minutes=15)
    blocker = create(resource["id"])["data"]
    with unchanged(db):
        response = book(resource["id"], "2030-01-07T08:50:00Z", 60)
    assert blocker["id"] in assert_error(response, 422, "slot_conflict")["details"][0]["message"]
    booked(resource["id"], "2030-01-07T08:45:00Z", 60)


def test_weekly_all_day_closure_refuses_bookings_that_sunday_local_time(
    client, db, create, berlin, book, booked
):
    # Sunday 2030-01-13 in Berlin is 2030-01-12T23:00Z .. 2030-01-13T23:00Z.
    create(
        berlin["id"],
        start_time="2030-01-13T12:00:00Z",
        end_time="2030-01-13T13:00:00Z",
        all_day=True,
        recurrence={"freq": "weekly"},
    )
    with unchanged(db):
        assert_error(book(berlin["id"], "2030-02-02T23:30:00Z", 30), 422, "slot_conflict")
        assert_error(book(berlin["id"], "2030-02-03T22:30:00Z", 30), 422, "slot_conflict")
    booked(berlin["id"], "2030-02-02T22:30:00Z", 30)  # Saturday 23:30 Berlin
    booked(berlin["id"], "2030-02-03T23:00:00Z", 30)  # Monday 00:00 Berlin


def test_booking_succeeds_once_the_blocker_is_deleted(
    client, write_headers, create, resource, book
):
    blocker = create(resource["id"], recurrence={"freq": "daily"})["data"]
    assert_error(book(resource["id"], "2030-01-09T10:00:00Z"), 422, "slot_conflict")
    assert client.delete(f"{URL}/{blocker['id']}", headers=write_headers).status_code == 200
    assert book(resource["id"], "2030-01-09T10:00:00Z").status_code == 201


def test_blocker_on_another_resource_does_not_stop_bookings(
    create, resource, make_resource, booked
):
    create(make_resource(name="Chair 2")["id"])
    booked(resource["id"], START)


# --- get and delete ----------------------------------------------------------------------------


def test_get_returns_the_blocker(client, read_headers, create, resource):
    blocker = create(resource["id"], title="Lunch", recurrence={"freq": "daily"})["data"]
    response = client.get(f"{URL}/{blocker['id']}", headers=read_headers)
    assert response.status_code == 200 and response.json["status"] == "ok"
    assert response.json["data"] == blocker


def test_get_unknown_id_is_404(client, read_headers):
    assert_error(client.get(f"{URL}/blk_nope", headers=read_headers), 404, "not_found")


def test_delete_needs_write_scope_and_removes_the_blocker(
    client, db, read_headers, write_headers, create, resource
):
    blocker = create(resource["id"])["data"]
    with unchanged(db):
        response = client.delete(f"{URL}/{blocker['id']}", headers=read_headers)
    assert_error(response, 403, "forbidden")
    response = client.delete(f"{URL}/{blocker['id']}", headers=write_headers)
    assert response.status_code == 200 and response.json["data"] == blocker
    assert_error(client.get(f"{URL}/{blocker['id']}", headers=read_headers), 404, "not_found")
    with unchanged(db):
        response = client.delete(f"{URL}/{blocker['id']}", headers=write_headers)
    assert_error(response, 404, "not_found")


def test_create_and_delete_append_blocker_change_rows(client, db, write_headers, create, resource):
    blocker = create(resource["id"])["data"]
    client.delete(f"{URL}/{blocker['id']}", headers=write_headers)
    rows = db.execute(
        "SELECT entity, entity_id, op FROM change_log WHERE entity = 'blocker' ORDER BY seq"
    ).fetchall()
    assert rows == [("blocker", blocker["id"], "upsert"), ("blocker", blocker["id"], "delete")]


# --- list --------------------------------------------------------------------------------------


def _list(client, headers, query: str = "") -> dict[str, Any]:
    response = client.get(f"{URL}{query}", headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ok"
    return response.json


def _ids(client, headers, query: str = "") -> list[str]:
    return [b["id"] for b in _list(client, headers, query)["data"]]


def test_list_is_oldest_first_without_occurrences(client, read_headers, create, resource):
    made = [create(resource["id"], recurrence={"freq": "daily"})["data"] for _ in range(3)]
    body = _list(client, read_headers)
    assert body["data"] == made
    assert all("occurrences" not in b for b in body["data"])
    assert body["meta"] == {"limit": 25, "next_cursor": None, "has_more": False}


def test_list_filters_by_resource(client, read_headers, create, resource, make_resource):
    other = make_resource(name="Chair 2")
    mine = create(resource["id"])["data"]["id"]
    create(other["id"])
    assert _ids(client, read_headers, f"?resource_id={resource['id']}") == [mine]
    assert _ids(client, read_headers, "?resource_id=res_nope") == []


def test_window_lists_only_blockers_occurring_in_it_with_their_occurrences(
    client, read_headers, create, resource
):
    one_off = create(
        resource["id"], start_time="2030-02-04T09:00:00Z", end_time="2030-02-04T10:00:00Z"
    )["data"]
    create(resource["id"], start_time="2030-03-04T09:00:00Z", end_time="2030-03-04T10:00:00Z")
    weekly = create(resource["id"], recurrence={"freq": "weekly"})["data"]
    create(resource["id"], recurrence={"freq": "weekly", "count": 2})  # over by Jan 14
    create(resource["id"], start_time="2030-03-01T10:00:00Z", end_time="2030-03-01T11:00:00Z")
    body = _list(client, read_headers, "?from=2030-02-01T00:00:00Z&to=2030-02-15T00:00:00Z")
    assert [b["id"] for b in body["data"]] == [one_off["id"], weekly["id"]]
    assert body["data"][0]["occurrences"] == [
        {"start_time": "2030-02-04T09:00:00Z", "end_time": "2030-02-04T10:00:00Z"}
    ]
    assert body["data"][1]["occurrences"] == [
        {"start_time": "2030-02-04T10:00:00Z", "end_time": "2030-02-04T11:00:00Z"},
        {"start_time": "2030-02-11T10:00:00Z", "end_time": "2030-02-11T11:00:00Z"},
    ]
    assert {k: v for k, v in body["data"][1].items() if k != "occurrences"} == weekly


def test_window_is_half_open_and_includes_occurrences_overlapping_its_start(
    client, read_headers, create, resource
):
    weekly = create(resource["id"], recurrence={"freq": "weekly"})["data"]
    # 10:30 on the 3rd Monday is inside the 10:00-11:00 occurrence; the 4th starts at `to`.
    body = _list(client, read_headers, "?from=2030-01-21T10:30:00Z&to=2030-01-28T10:00:00Z")
    assert [b["id"] for b in body["data"]] == [weekly["id"]]
    assert body["data"][0]["occurrences"] == [
        {"start_time": "2030-01-21T10:00:00Z", "end_time": "2030-01-21T11:00:00Z"}
    ]
    # a window that only touches occurrences holds none
    assert _ids(client, read_headers, "?from=2030-01-21T11:00:00Z&to=2030-01-28T10:00:00Z") == []


def test_recurring_occurrences_stay_at_local_time_across_dst(client, read_headers, create, berlin):
    # 12:00 Berlin every Monday: 11:00Z in winter, 10:00Z after 2030-03-31.
    create(
        berlin["id"],
        start_time="2030-03-18T11:00:00Z",
        end_time="2030-03-18T12:00:00Z",
        recurrence={"freq": "weekly"},
    )
    body = _list(client, read_headers, "?from=2030-03-20T00:00:00Z&to=2030-04-05T00:00:00Z")
    assert body["data"][0]["occurrences"] == [
        {"start_time": "2030-03-25T11:00:00Z", "end_time": "2030-03-25T12:00:00Z"},
        {"start_time": "2030-04-01T10:00:00Z", "end_time": "2030-04-01T11:00:00Z"},
    ]


def test_window_holds_at_most_100_occurrences_of_an_endless_rule(
    client, read_headers, create, resource
):
    create(resource["id"], recurrence={"freq": "daily"})
    body = _list(client, read_headers, "?from=2030-01-01T00:00:00Z&to=2040-01-01T00:00:00Z")
    occurrences = body["data"][0]["occurrences"]
    assert len(occurrences) == 100
    assert occurrences[0] == {"start_time": START, "end_time": END}
    assert occurrences[-1] == {
        "start_time": "2030-04-16T10:00:00Z",
        "end_time": "2030-04-16T11:00:00Z",
    }
    starts = [o["start_time"] for o in occurrences]
    assert starts == sorted(set(starts))


def test_window_with_only_from_is_open_ended(client, read_headers, create, resource):
    create(resource["id"], recurrence={"freq": "weekly", "count": 4})
    body = _list(client, read_headers, "?from=2030-01-20T00:00:00Z")
    assert [o["start_time"] for o in body["data"][0]["occurrences"]] == [
        "2030-01-21T10:00:00Z",
        "2030-01-28T10:00:00Z",
    ]
    assert _ids(client, read_headers, "?from=2030-01-29T00:00:00Z") == []


def test_window_with_only_to_starts_at_the_beginning(client, read_headers, create, resource):
    create(resource["id"], recurrence={"freq": "daily"})
    body = _list(client, read_headers, "?to=2030-01-09T00:00:00Z")
    assert [o["start_time"] for o in body["data"][0]["occurrences"]] == [
        "2030-01-07T10:00:00Z",
        "2030-01-08T10:00:00Z",
    ]


def test_endless_rule_is_listed_correctly_ten_years_later(client, read_headers, create, berlin):
    create(
        berlin["id"],
        start_time="2030-01-07T11:00:00Z",  # 12:00 Berlin
        end_time="2030-01-07T12:00:00Z",
        recurrence={"freq": "daily"},
    )
    create(berlin["id"], recurrence={"rrule": "FREQ=WEEKLY;BYDAY=MO"})
    body = _list(client, read_headers, "?from=2040-07-02T00:00:00Z&to=2040-07-04T00:00:00Z")
    daily = body["data"][0]["occurrences"]
    assert daily == [  # 12:00 CEST is 10:00Z
        {"start_time": "2040-07-02T10:00:00Z", "end_time": "2040-07-02T11:00:00Z"},
        {"start_time": "2040-07-03T10:00:00Z", "end_time": "2040-07-03T11:00:00Z"},
    ]
    # 2040-07-02 is a Monday; the weekly rule started 11:00 Berlin in winter: 09:00Z in summer
    assert body["data"][1]["occurrences"] == [
        {"start_time": "2040-07-02T09:00:00Z", "end_time": "2040-07-02T10:00:00Z"}
    ]


def test_list_pages_with_cursor(client, read_headers, create, resource):
    made = [create(resource["id"])["data"]["id"] for _ in range(5)]
    first = _list(client, read_headers, "?limit=2")
    assert first["meta"]["limit"] == 2 and first["meta"]["has_more"] is True
    seen = [b["id"] for b in first["data"]]
    cursor = first["meta"]["next_cursor"]
    while cursor:
        page = _list(client, read_headers, f"?limit=2&cursor={cursor}")
        seen += [b["id"] for b in page["data"]]
        cursor = page["meta"]["next_cursor"]
        assert page["meta"]["has_more"] is (cursor is not None)
    assert seen == made


def test_windowed_list_pages_over_matching_blockers_only(client, read_headers, create, resource):
    matching = []
    for year in (2030, 2031, 2030, 2031, 2030, 2031, 2030):
        data = create(
            resource["id"], start_time=f"{year}-01-07T10:00:00Z", end_time=f"{year}-01-07T11:00:00Z"
        )["data"]
        if year == 2030:
            matching.append(data["id"])
    window = "from=2030-01-01T00:00:00Z&to=2030-02-01T00:00:00Z"
    seen, cursor = [], None
    while True:
        page = _list(
            client, read_headers, f"?{window}&limit=2" + (f"&cursor={cursor}" * bool(cursor))
        )
        assert len(page["data"]) <= 2
        assert all(len(b["occurrences"]) == 1 for b in page["data"])
        seen += [b["id"] for b in page["data"]]
        cursor = page["meta"]["next_cursor"]
        assert page["meta"]["has_more"] is (cursor is not None)
        if not cursor:
            break
    assert seen == matching


@pytest.mark.parametrize(
    "query, field",
    [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=abc", "limit"),
        ("?from=2030-01-07", "from"),
        ("?to=2030-01-07T10:00:00+01:00", "to"),
        ("?from=2030-01-08T00:00:00Z&to=2030-01-08T00:00:00Z", "to"),
        ("?from=2030-01-08T00:00:00Z&to=2030-01-07T00:00:00Z", "to"),
        ("?cursor=forged", "cursor"),
    ],
)
def test_invalid_list_query_is_422_naming_the_parameter(client, read_headers, query, field):
    error = assert_error(client.get(f"{URL}{query}", headers=read_headers), 422, "validation_error")
    assert field in _fields(error)


def test_unknown_list_parameters_are_ignored(client, read_headers, create, resource):
    made = create(resource["id"])["data"]["id"]
    assert _ids(client, read_headers, "?colour=blue") == [made]


def test_list_needs_a_key(client):
    assert_error(client.get(URL), 401, "unauthorized")


# --- the seed's curl examples ------------------------------------------------------------------


def test_seed_curl_examples_create_list_and_delete(client, db, write_headers, resource):
    # curl -X POST .../modules/booking/blockers -d '{"resource_id":"...","start_time":{},...}'
    created = client.post(
        URL,
        json={"resource_id": resource["id"], "start_time": START, "end_time": END},
        headers={**write_headers, "Content-Type": "application/json"},
    )
    assert created.status_code == 201 and created.json["status"] == "ok"
    blocker_id = created.json["data"]["id"]
    # curl .../modules/booking/blockers
    listed = client.get(URL, headers=write_headers)
    assert listed.status_code == 200 and listed.json["status"] == "ok"
    assert [b["id"] for b in listed.json["data"]] == [blocker_id]
    # curl -X DELETE .../modules/booking/blockers/{blocker_id}
    deleted = client.delete(f"{URL}/{blocker_id}", headers=write_headers)
    assert deleted.status_code == 200 and deleted.json["status"] == "ok"
    assert db.execute("SELECT COUNT(*) FROM blockers").fetchone()[0] == 0


def test_seed_placeholder_times_are_422(client, db, write_headers, resource):
    # The seed's example literally sends {} for the times; that is not an ISO 8601 string.
    body = {"resource_id": resource["id"], "start_time": {}, "end_time": {}}
    with unchanged(db):
        response = client.post(URL, json=body, headers=write_headers)
    assert set(_fields(assert_error(response, 422, "validation_error"))) == {
        "start_time",
        "end_time",
    }
