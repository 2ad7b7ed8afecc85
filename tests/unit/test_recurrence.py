"""Blocker recurrence (API.md §5), pure: widen_all_day, build_rule and occurrences.

Europe/Berlin springs forward on Sunday 2030-03-31 and falls back on Sunday 2030-10-27.
"""

import os
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.times import format_instant, parse_instant
from app.domain.recurrence import build_rule, occurrences, widen_all_day

BERLIN = "Europe/Berlin"


def _blocker(start: str, end: str, recurrence: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "blk_test",
        "start_time": parse_instant(start),
        "end_time": parse_instant(end),
        "recurrence": recurrence,
    }


def _occ(
    blocker: dict[str, Any], timezone: str, start: str, end: str, limit: int | None = None
) -> list[tuple[str, str]]:
    found = occurrences(blocker, timezone, parse_instant(start), parse_instant(end), limit)
    return [(format_instant(o.start), format_instant(o.end)) for o in found]


def _widen(start: str, end: str, timezone: str) -> tuple[str, str]:
    wide = widen_all_day(parse_instant(start), parse_instant(end), timezone)
    return format_instant(wide[0]), format_instant(wide[1])


# --- widen_all_day -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, timezone, widened",
    [
        (
            "2030-01-07T10:00:00Z",
            "2030-01-07T11:00:00Z",
            "UTC",
            ("2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z"),
        ),
        (
            "2030-01-07T10:00:00Z",
            "2030-01-07T11:00:00Z",
            BERLIN,
            ("2030-01-06T23:00:00Z", "2030-01-07T23:00:00Z"),
        ),
        (
            "2030-01-07T10:00:00Z",
            "2030-01-07T23:00:00Z",
            BERLIN,
            ("2030-01-06T23:00:00Z", "2030-01-07T23:00:00Z"),
        ),
        (
            "2030-01-07T10:00:00Z",
            "2030-01-09T05:00:00Z",
            BERLIN,
            ("2030-01-06T23:00:00Z", "2030-01-09T23:00:00Z"),
        ),
        (
            "2030-01-07T00:00:00Z",
            "2030-01-08T00:00:00Z",
            "UTC",
            ("2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z"),
        ),
        (
            "2030-01-07T23:00:00Z",
            "2030-01-07T23:00:00.001Z",
            BERLIN,
            ("2030-01-07T23:00:00Z", "2030-01-08T23:00:00Z"),
        ),
        (
            "2030-03-31T10:00:00Z",
            "2030-03-31T11:00:00Z",
            BERLIN,
            ("2030-03-30T23:00:00Z", "2030-03-31T22:00:00Z"),
        ),
        (
            "2030-10-27T10:00:00Z",
            "2030-10-27T11:00:00Z",
            BERLIN,
            ("2030-10-26T22:00:00Z", "2030-10-27T23:00:00Z"),
        ),
        (
            "2030-01-07T10:00:00Z",
            "2030-01-07T11:00:00Z",
            "America/New_York",
            ("2030-01-07T05:00:00Z", "2030-01-08T05:00:00Z"),
        ),
        (
            "2030-01-07T03:00:00Z",
            "2030-01-07T04:00:00Z",
            "America/New_York",
            ("2030-01-06T05:00:00Z", "2030-01-07T05:00:00Z"),
        ),
    ],
)
def test_widen_all_day_covers_whole_local_days(start, end, timezone, widened):
    assert _widen(start, end, timezone) == widened


@given(
    start=st.datetimes(datetime(2020, 1, 1), datetime(2040, 1, 1)),
    minutes=st.integers(1, 5 * 1440),
    timezone=st.sampled_from(["UTC", BERLIN, "America/New_York", "Australia/Lord_Howe"]),
)
def test_widened_interval_contains_the_original_and_starts_and_ends_at_local_midnight(
    start, minutes, timezone
):
    first = int(start.replace(tzinfo=UTC).timestamp()) * 1000
    last = first + minutes * 60_000
    wide_start, wide_end = widen_all_day(first, last, timezone)
    assert wide_start <= first < last <= wide_end
    zone = ZoneInfo(timezone)
    for edge in (wide_start, wide_end):
        local = datetime.fromtimestamp(edge / 1000, UTC).astimezone(zone)
        assert (local.hour, local.minute, local.second) == (0, 0, 0)
    # idempotent: whole days stay as they are
    assert widen_all_day(wide_start, wide_end, timezone) == (wide_start, wide_end)


# --- occurrences across daylight saving --------------------------------------------------------


def test_weekly_berlin_lunch_break_stays_at_noon_local_across_both_dst_changes():
    # Monday 12:00-13:00 Berlin, from 2030-03-18 (CET, so 11:00Z).
    lunch = _blocker("2030-03-18T11:00:00Z", "2030-03-18T12:00:00Z", {"freq": "weekly"})
    assert _occ(lunch, BERLIN, "2030-03-20T00:00:00Z", "2030-04-05T00:00:00Z") == [
        ("2030-03-25T11:00:00Z", "2030-03-25T12:00:00Z"),
        ("2030-04-01T10:00:00Z", "2030-04-01T11:00:00Z"),  # CEST
    ]
    assert _occ(lunch, BERLIN, "2030-10-20T00:00:00Z", "2030-11-01T00:00:00Z") == [
        ("2030-10-21T10:00:00Z", "2030-10-21T11:00:00Z"),
        ("2030-10-28T11:00:00Z", "2030-10-28T12:00:00Z"),  # CET again
    ]


def test_weekly_all_day_sunday_closure_stays_midnight_to_midnight_local():
    start, end = widen_all_day(
        parse_instant("2030-03-24T10:00:00Z"), parse_instant("2030-03-24T11:00:00Z"), BERLIN
    )
    closure = {
        "id": "blk_sun",
        "start_time": start,
        "end_time": end,
        "recurrence": {"freq": "weekly"},
    }
    assert _occ(closure, BERLIN, "2030-03-25T00:00:00Z", "2030-04-08T00:00:00Z") == [
        ("2030-03-30T23:00:00Z", "2030-03-31T22:00:00Z"),  # a 23-hour day
        ("2030-04-06T22:00:00Z", "2030-04-07T22:00:00Z"),
    ]
    assert _occ(closure, BERLIN, "2030-10-25T00:00:00Z", "2030-10-28T00:00:00Z") == [
        ("2030-10-26T22:00:00Z", "2030-10-27T23:00:00Z"),  # a 25-hour day
    ]


def test_utc_resource_occurrences_never_shift():
    daily = _blocker("2030-03-29T10:00:00Z", "2030-03-29T11:00:00Z", {"freq": "daily"})
    starts = [s for s, _ in _occ(daily, "UTC", "2030-03-29T00:00:00Z", "2030-04-02T00:00:00Z")]
    assert starts == [f"2030-{d}T10:00:00Z" for d in ("03-29", "03-30", "03-31", "04-01")]


# --- count, until, window and limit ------------------------------------------------------------

FOREVER = ("2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z")


def test_count_is_respected():
    daily = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": "daily", "count": 3})
    assert [s for s, _ in _occ(daily, BERLIN, *FOREVER)] == [
        "2030-01-07T10:00:00Z",
        "2030-01-08T10:00:00Z",
        "2030-01-09T10:00:00Z",
    ]


@pytest.mark.parametrize(
    "until, count",
    [
        ("2030-01-09T10:00:00Z", 3),  # until is inclusive
        ("2030-01-09T09:59:00Z", 2),
        ("2030-01-07T10:00:00Z", 1),
    ],
)
def test_until_is_respected(until, count):
    daily = _blocker(
        "2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": "daily", "until": until}
    )
    assert len(_occ(daily, BERLIN, *FOREVER)) == count


def test_interval_and_by_weekday_are_respected():
    rule = {"freq": "weekly", "interval": 2, "by_weekday": ["MO", "FR"], "count": 4}
    blocker = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", rule)
    assert [s for s, _ in _occ(blocker, "UTC", *FOREVER)] == [
        "2030-01-07T10:00:00Z",
        "2030-01-11T10:00:00Z",
        "2030-01-21T10:00:00Z",
        "2030-01-25T10:00:00Z",
    ]


@pytest.mark.parametrize(
    "freq, second",
    [
        ("daily", "2030-01-08T10:00:00Z"),
        ("weekly", "2030-01-14T10:00:00Z"),
        ("monthly", "2030-02-07T10:00:00Z"),
        ("yearly", "2031-01-07T10:00:00Z"),
    ],
)
def test_each_frequency(freq, second):
    blocker = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": freq, "count": 2})
    assert [s for s, _ in _occ(blocker, "UTC", *FOREVER)] == ["2030-01-07T10:00:00Z", second]


def test_occurrences_are_bounded_by_the_window():
    daily = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": "daily"})
    assert _occ(daily, BERLIN, "2030-01-10T00:00:00Z", "2030-01-12T00:00:00Z") == [
        ("2030-01-10T10:00:00Z", "2030-01-10T11:00:00Z"),
        ("2030-01-11T10:00:00Z", "2030-01-11T11:00:00Z"),
    ]


def test_occurrences_are_bounded_by_limit():
    daily = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": "daily"})
    found = _occ(daily, BERLIN, *FOREVER, limit=5)
    assert [s for s, _ in found] == [f"2030-01-{d:02d}T10:00:00Z" for d in range(7, 12)]


def test_endless_daily_rule_queried_a_year_ahead_yields_only_the_window():
    daily = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": "daily"})
    assert _occ(daily, "UTC", "2031-01-07T00:00:00Z", "2031-01-09T00:00:00Z") == [
        ("2031-01-07T10:00:00Z", "2031-01-07T11:00:00Z"),
        ("2031-01-08T10:00:00Z", "2031-01-08T11:00:00Z"),
    ]


def test_endless_rule_queried_ten_years_ahead_is_correct():
    weekly = _blocker("2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z", {"rrule": "FREQ=WEEKLY"})
    # 2040-07-02 is a Monday; 12:00 Berlin is 10:00Z in summer
    assert _occ(weekly, BERLIN, "2040-06-30T00:00:00Z", "2040-07-07T00:00:00Z") == [
        ("2040-07-02T10:00:00Z", "2040-07-02T11:00:00Z")
    ]


def test_an_occurrence_starting_before_the_window_but_overlapping_it_is_included():
    daily = _blocker("2030-01-07T10:00:00Z", "2030-01-07T12:00:00Z", {"freq": "daily"})
    assert _occ(daily, BERLIN, "2030-01-09T11:00:00Z", "2030-01-10T11:00:00Z") == [
        ("2030-01-09T10:00:00Z", "2030-01-09T12:00:00Z"),
        ("2030-01-10T10:00:00Z", "2030-01-10T12:00:00Z"),
    ]


def test_a_multi_day_occurrence_overlapping_the_window_start_is_included():
    # Friday 18:00 to Monday 06:00 Berlin, every week
    weekend = _blocker("2030-01-11T17:00:00Z", "2030-01-14T05:00:00Z", {"freq": "weekly"})
    assert _occ(weekend, BERLIN, "2030-01-20T12:00:00Z", "2030-01-20T13:00:00Z") == [
        ("2030-01-18T17:00:00Z", "2030-01-21T05:00:00Z")
    ]


def test_touching_the_window_is_not_overlapping():
    daily = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": "daily"})
    assert _occ(daily, "UTC", "2030-01-08T11:00:00Z", "2030-01-09T10:00:00Z") == []


@pytest.mark.parametrize(
    "window, expected",
    [
        (("2030-01-07T10:30:00Z", "2030-01-07T10:45:00Z"), 1),
        (("2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"), 0),
        (("2030-01-07T11:00:00Z", "2030-01-08T11:00:00Z"), 0),
    ],
)
def test_a_one_off_blocker_is_its_own_only_occurrence(window, expected):
    once = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z")
    found = _occ(once, BERLIN, *window)
    assert found == [("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z")] * expected


def test_occurrences_are_owned_by_the_blocker():
    daily = _blocker("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", {"freq": "daily", "count": 3})
    found = occurrences(daily, "UTC", *map(parse_instant, FOREVER))
    assert {o.owner for o in found} == {"blk_test"}


# --- the two forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "structured, text",
    [
        ({"freq": "daily"}, "FREQ=DAILY"),
        (
            {"freq": "weekly", "by_weekday": ["MO", "WE"], "count": 6},
            "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6",
        ),
        (
            {"freq": "daily", "interval": 3, "until": "2030-03-01T00:00:00Z"},
            "FREQ=DAILY;INTERVAL=3;UNTIL=20300301T000000Z",
        ),
        ({"freq": "monthly", "count": 14}, "RRULE:FREQ=MONTHLY;COUNT=14"),
        ({"freq": "yearly", "interval": 2}, "FREQ=YEARLY;INTERVAL=2"),
        ({"freq": "weekly", "by_weekday": ["SU"]}, "freq=weekly;byday=su"),
    ],
)
def test_rrule_and_structured_forms_give_the_same_occurrences(structured, text):
    first = ("2030-01-07T11:00:00Z", "2030-01-07T12:30:00Z")
    window = ("2029-12-01T00:00:00Z", "2032-06-01T00:00:00Z")
    from_structured = _occ(_blocker(*first, structured), BERLIN, *window)
    from_text = _occ(_blocker(*first, {"rrule": text}), BERLIN, *window)
    assert from_structured == from_text and from_structured


def test_build_rule_starts_at_the_given_local_start():
    start = datetime(2030, 1, 7, 12, 0, tzinfo=ZoneInfo(BERLIN))
    rule = build_rule({"freq": "weekly", "count": 2}, start)
    assert isinstance(rule, rrule.rrule)
    assert list(rule) == [start, start + timedelta(weeks=1)]
    assert list(build_rule({"rrule": "RRULE:FREQ=WEEKLY;COUNT=2"}, start)) == list(rule)


@pytest.mark.parametrize(
    "text",
    [
        "DTSTART:20300107T100000Z\nRRULE:FREQ=WEEKLY",
        "DTSTART=20300107T100000Z;FREQ=WEEKLY",
        "FREQ=HOURLY",
        "FREQ=MINUTELY",
        "FREQ=SECONDLY",
        "FREQ=WEEKLY;BYDAY=XX",
        "nonsense",
    ],
)
def test_build_rule_refuses_rules_a_blocker_cannot_use(text):
    start = datetime(2030, 1, 7, 12, 0, tzinfo=ZoneInfo(BERLIN))
    with pytest.raises(ValueError):
        build_rule({"rrule": text}, start)


# --- properties --------------------------------------------------------------------------------

EPOCH_2030 = parse_instant("2030-01-01T00:00:00Z")
QUARTER = 15 * 60_000


@st.composite
def recurrences(draw) -> dict[str, Any]:
    rule: dict[str, Any] = {"freq": draw(st.sampled_from(["daily", "weekly", "monthly"]))}
    if draw(st.booleans()):
        rule["interval"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        rule["count"] = draw(st.integers(1, 40))
    if rule["freq"] == "weekly" and draw(st.booleans()):
        days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        rule["by_weekday"] = draw(st.lists(st.sampled_from(days), min_size=1, unique=True))
    return rule


@st.composite
def rrule_texts(draw) -> dict[str, Any]:
    """RRULEs with the parts dateutil derives from DTSTART when absent, and BYSETPOS."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 5))}"]
    optional = {
        "BYHOUR": st.lists(st.integers(0, 23), min_size=1, max_size=3, unique=True),
        "BYMINUTE": st.lists(st.sampled_from([0, 15, 30, 45]), min_size=1, max_size=2),
        "BYDAY": st.lists(st.sampled_from(["MO", "WE", "FR", "SU"]), min_size=1, unique=True),
        "BYMONTHDAY": st.lists(st.sampled_from([1, 15, 29, 31, -1]), min_size=1, unique=True),
        "BYMONTH": st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True),
        "BYSETPOS": st.sampled_from([[1], [-1], [1, 2]]),
        "COUNT": st.integers(20, 600).map(lambda n: [n]),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            parts.append(f"{name}={','.join(str(v) for v in draw(values))}")
    return {"rrule": ";".join(parts)}


def _brute_force(blocker: dict[str, Any], timezone: str, start: int, end: int) -> list:
    """Every occurrence from the first, by hand, kept if it overlaps [start, end)."""
    zone = ZoneInfo(timezone)
    first = datetime.fromtimestamp(blocker["start_time"] / 1000, UTC).astimezone(zone)
    last = datetime.fromtimestamp(blocker["end_time"] / 1000, UTC).astimezone(zone)
    length = last.replace(tzinfo=None) - first.replace(tzinfo=None)
    found = []
    for moment in build_rule(blocker["recurrence"], first):
        o_start = int(moment.timestamp() * 1000)
        o_end = int(
            ((moment.replace(tzinfo=None) + length).replace(tzinfo=zone)).timestamp() * 1000
        )
        if o_start >= end:
            break
        if o_start < end and start < o_end:
            found.append((o_start, o_end))
    return found


# The expansion restarts the rule near the window (README § Bookings, blockers and
# availability); _brute_force walks it from the first start, so they must agree.
@settings(deadline=None, max_examples=int(os.environ.get("RECURRENCE_EXAMPLES", "300")))
@given(
    recurrence=st.one_of(recurrences(), rrule_texts()),
    first_offset=st.integers(0, 400 * 96),  # quarter-hours after 2030-01-01
    length=st.integers(1, 3 * 96),  # up to three days
    window_offset=st.integers(-30 * 96, 8 * 365 * 96),  # up to eight years after the start
    window_length=st.integers(1, 400 * 96),
    timezone=st.sampled_from(["UTC", BERLIN, "America/New_York", "Australia/Lord_Howe"]),
)
def test_occurrences_overlap_the_window_in_order_and_miss_none(
    recurrence, first_offset, length, window_offset, window_length, timezone
):
    first = EPOCH_2030 + first_offset * QUARTER
    blocker = {
        "id": "blk_p",
        "start_time": first,
        "end_time": first + length * QUARTER,
        "recurrence": recurrence,
    }
    start = first + window_offset * QUARTER
    end = start + window_length * QUARTER
    found = [(o.start, o.end) for o in occurrences(blocker, timezone, start, end)]
    assert all(o_start < end and start < o_end for o_start, o_end in found)
    assert all(a[0] < b[0] for a, b in zip(found, found[1:], strict=False))
    assert found == _brute_force(blocker, timezone, start, end)


@settings(deadline=None)
@given(
    recurrence=recurrences(),
    limit=st.integers(1, 10),
    window_offset=st.integers(0, 100 * 96),
)
def test_limit_keeps_the_first_occurrences_of_the_window(recurrence, limit, window_offset):
    first = parse_instant("2030-01-07T10:00:00Z")
    blocker = {
        "id": "blk_p",
        "start_time": first,
        "end_time": first + 4 * QUARTER,
        "recurrence": recurrence,
    }
    start, end = first + window_offset * QUARTER, first + 200 * 96 * QUARTER
    every = list(occurrences(blocker, BERLIN, start, end))
    assert list(occurrences(blocker, BERLIN, start, end, limit)) == every[:limit]
