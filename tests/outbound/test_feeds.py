"""Calendar feeds: parsed back by an independent reader (icalendar + recurring-ical-events), and
compared with the service's own bookings and blocker occurrences."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import icalendar
import pytest
import recurring_ical_events

from app.core.times import parse_instant, wall_ms
from tests.conftest import assert_error, unchanged
from tests.outbound.helpers import DAY, at_minute, book, cancel, days_ahead, iso

FEEDS = "/modules/booking/calendar-feeds"


def fetch(client, url):
    response = client.get(urlsplit(url).path)
    return response


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(response.data)


def monday_before_summer_time() -> date:
    """The Monday two weeks before the coming last Sunday of March (inside the feed's year)."""
    today = datetime.fromtimestamp(wall_ms() / 1000, UTC).date()
    year = today.year + (1 if today >= date(today.year, 3, 1) else 0)
    last_sunday = max(
        date(year, 3, day) for day in range(25, 32) if date(year, 3, day).weekday() == 6
    )
    return last_sunday - timedelta(days=13)


def events_by_uid(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def _ms(value) -> int:
    if not isinstance(value, datetime):  # an all-day DATE
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return int(value.timestamp() * 1000)


@pytest.fixture
def chair(make_resource):
    return make_resource(name="Chair 1", timezone="Europe/Paris")


@pytest.fixture
def feed_url(client, admin_headers, chair):
    response = client.post(FEEDS, json={"resource_id": chair["id"]}, headers=admin_headers)
    assert response.status_code == 201, response.json
    return response.json["data"]["url"]


def test_a_resource_feed_lists_its_bookings_with_stable_uids_sequence_and_status(
    client, admin_headers, chair, feed_url, make_customer, make_resource
):
    ada = make_customer(name="Ada Lovelace", phone="+33600000000")
    start = days_ahead(30)
    kept = book(client, admin_headers, chair["id"], start, ada["id"])
    dropped = book(client, admin_headers, chair["id"], start + 2 * 3_600_000)
    elsewhere = book(client, admin_headers, make_resource(name="Room")["id"], start)
    first = events_by_uid(parse(fetch(client, feed_url)))
    assert f"{elsewhere['id']}@booking-service" not in first
    event = first[f"{kept['id']}@booking-service"]
    assert str(event["SUMMARY"]) == "Ada Lovelace" and "+33600000000" in str(event["DESCRIPTION"])
    assert _ms(event.decoded("DTSTART")) == start and event["STATUS"] == "TENTATIVE"
    assert int(event["SEQUENCE"]) == 0

    client.post(
        f"/modules/booking/bookings/{kept['id']}/transition",
        json={"status": "confirmed"},
        headers=admin_headers,
    )
    cancel(client, admin_headers, dropped["id"])
    second = events_by_uid(parse(fetch(client, feed_url)))
    assert set(second) == set(first)  # the same UIDs: calendars update, never duplicate
    assert (
        second[f"{kept['id']}@booking-service"]["STATUS"],
        int(second[f"{kept['id']}@booking-service"]["SEQUENCE"]),
    ) == ("CONFIRMED", 1)
    cancelled = second[f"{dropped['id']}@booking-service"]
    assert cancelled["STATUS"] == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1


def test_blockers_are_busy_time_and_a_repeating_one_expands_as_the_service_expands_it(
    client, admin_headers, chair, feed_url
):
    monday = monday_before_summer_time()  # the weeks around Paris's change to summer time
    weekly = {
        "resource_id": chair["id"],
        "title": "Lunch",
        "start_time": f"{monday}T11:00:00Z",
        "end_time": f"{monday}T12:00:00Z",  # 12:00 in Paris, in winter time
        "recurrence": {"freq": "weekly", "by_weekday": ["MO", "WE"], "count": 12},
    }
    later = monday + timedelta(days=21)
    holiday = {
        "resource_id": chair["id"],
        "title": "Holiday",
        "start_time": f"{later}T00:00:00Z",
        "end_time": f"{later}T12:00:00Z",
        "all_day": True,
    }
    for body in (weekly, holiday):
        response = client.post("/modules/booking/blockers", json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
    window = (f"{monday - timedelta(days=3)}T00:00:00Z", f"{monday + timedelta(days=60)}T00:00:00Z")
    listed = client.get(
        "/modules/booking/blockers",
        query_string={"resource_id": chair["id"], "from": window[0], "to": window[1]},
        headers=admin_headers,
    ).json["data"]
    expected = sorted(
        (parse_instant(o["start_time"]), parse_instant(o["end_time"]))
        for blocker in listed
        for o in blocker["occurrences"]
    )
    calendar = parse(fetch(client, feed_url))
    read = recurring_ical_events.of(calendar).between(
        datetime.fromisoformat(window[0]), datetime.fromisoformat(window[1])
    )
    holiday_days = [o for o in read if str(o["SUMMARY"]) == "Holiday"]
    assert len(holiday_days) == 1 and str(holiday_days[0]["TRANSP"]) == "OPAQUE"
    lunches = sorted(
        (_ms(o.decoded("DTSTART")), _ms(o.decoded("DTEND")))
        for o in read
        if str(o["SUMMARY"]) == "Lunch"
    )
    assert lunches == [pair for pair in expected if pair[1] - pair[0] == 3_600_000]
    assert len(lunches) == 12
    # Still 12:00 in Paris after the change to summer time (the last Sunday of March).
    assert {datetime.fromtimestamp(s / 1000, UTC).hour for s, _ in lunches} == {10, 11}


def test_a_shop_feed_shows_every_resource(client, admin_headers, make_resource):
    first, second = make_resource(name="A"), make_resource(name="B")
    start = days_ahead(30)
    ids = {book(client, admin_headers, r["id"], start)["id"] for r in (first, second)}
    response = client.post(FEEDS, json={"name": "Whole shop"}, headers=admin_headers)
    calendar = parse(fetch(client, response.json["data"]["url"]))
    assert str(calendar["X-WR-CALNAME"]) == "Whole shop"
    assert {uid.split("@")[0] for uid in events_by_uid(calendar)} == ids


def test_a_revoked_feed_answers_404_and_an_unknown_one_too(client, admin_headers, feed_url):
    feeds = client.get(FEEDS, headers=admin_headers).json["data"]
    assert feeds[0]["url"] is None  # the secret URL is shown once, at creation
    response = client.delete(f"{FEEDS}/{feeds[0]['id']}", headers=admin_headers)
    assert response.json["data"]["revoked_at"]
    assert_error(fetch(client, feed_url), 404, "not_found")
    assert_error(client.get("/calendar/not-a-token.ics"), 404, "not_found")


def test_a_feed_for_an_unknown_resource_is_refused_and_changes_nothing(client, db, admin_headers):
    with unchanged(db):
        response = client.post(FEEDS, json={"resource_id": "res_nope"}, headers=admin_headers)
    assert_error(response, 422, "unknown_resource")


def test_feeds_are_made_by_admins_only(client, db, write_headers):
    with unchanged(db):
        response = client.post(FEEDS, json={}, headers=write_headers)
    assert_error(response, 403, "forbidden")


def test_the_feed_window_starts_a_month_back(client, admin_headers, chair, feed_url):
    old = book(client, admin_headers, chair["id"], at_minute(wall_ms() - 40 * DAY))
    recent = book(client, admin_headers, chair["id"], at_minute(wall_ms() - 10 * DAY))
    uids = set(events_by_uid(parse(fetch(client, feed_url))))
    assert f"{recent['id']}@booking-service" in uids and f"{old['id']}@booking-service" not in uids
    assert iso(0)  # helpers stay importable
