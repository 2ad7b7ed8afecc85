"""The counter's rules on plain values: clocks, phone spellings, staff lock-out, the browser
finder."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from app.domain import staff
from app.domain.customer_search import phone_prefixes
from app.web.ui.clocks import format_clock, parse_clock, parse_date
from tests.tools import browser as finder


@pytest.mark.parametrize(
    "typed,expected",
    [
        ("9", time(9)), ("09", time(9)), ("930", time(9, 30)), ("9:30", time(9, 30)),
        ("09.30", time(9, 30)), ("21:30", time(21, 30)), ("9:30pm", time(21, 30)),
        ("9 PM", time(21)), ("12 am", time(0)), ("12:15 p.m.", time(12, 15)),
        (" 7:05 ", time(7, 5)),
    ],
)  # fmt: skip
def test_a_time_is_read_in_either_clock(typed, expected):
    assert parse_clock(typed) == expected


@pytest.mark.parametrize("typed", ["", "25:00", "9:60", "13 pm", "0 am", "noon", "9:3", "1:2:3"])
def test_an_unreadable_time_is_none(typed):
    assert parse_clock(typed) is None


def test_times_are_written_on_the_shop_s_clock():
    assert format_clock(time(14, 30), hour12=False) == "14:30"
    assert format_clock(time(14, 30), hour12=True) == "2:30 PM"
    assert format_clock(datetime(2030, 1, 7, 0, 5), hour12=True) == "12:05 AM"
    assert format_clock(time(9), hour12=False) == "09:00"


@pytest.mark.parametrize("typed", ["2030-02-30", "07/01/2030", "2030-1-7", ""])
def test_only_a_calendar_date_written_year_first_is_a_date(typed):
    assert parse_date(typed) is None


def test_phone_prefixes_cover_the_spellings_of_one_number():
    spellings = set(phone_prefixes("0151 2345678", "DE"))
    assert {"+491512345678", "00491512345678", "01512345678", "1512345678"} <= spellings
    assert set(phone_prefixes("+49 151 2345678", "DE")) >= {"01512345678", "+491512345678"}
    assert phone_prefixes("Ada", "DE") == []
    assert phone_prefixes("12", "DE") == []  # too short to be worth an index walk


def test_a_us_shop_dials_out_with_011():
    assert "+15551234567" in phone_prefixes("011 1 555 123 4567", "US")
    assert "+15551234567" in phone_prefixes("(555) 123-4567", "US")


# --- staff lock-out ---------------------------------------------------------------------------


@pytest.fixture
def member(db):
    return staff.create(db, staff.NewMember(name="Mia", role="booking:write", secret="2468"))


def test_a_right_pin_signs_in_whatever_the_name_s_case(db, member):
    assert staff.verify(db, "  mIA ", "2468")["id"] == member["id"]


def test_five_wrong_pins_lock_the_account_even_for_the_right_one(db, member):
    for _ in range(staff.MAX_FAILURES):
        with pytest.raises(staff.SignInRefused):
            staff.verify(db, "Mia", "0000")
    with pytest.raises(staff.SignInRefused) as refused:
        staff.verify(db, "Mia", "2468")
    assert refused.value.locked_until is not None
    assert "locked" in refused.value.message
    later = refused.value.locked_until + 1
    assert staff.verify(db, "Mia", "2468", now=later)["failed_attempts"] == 0


def test_a_right_pin_resets_the_count(db, member):
    for _ in range(staff.MAX_FAILURES - 1):
        with pytest.raises(staff.SignInRefused):
            staff.verify(db, "Mia", "0000")
    staff.verify(db, "Mia", "2468")
    with pytest.raises(staff.SignInRefused) as refused:
        staff.verify(db, "Mia", "0000")
    assert refused.value.locked_until is None


def test_an_unknown_name_and_a_wrong_pin_read_alike(db, member):
    with pytest.raises(staff.SignInRefused) as unknown:
        staff.verify(db, "Nobody", "2468")
    with pytest.raises(staff.SignInRefused) as wrong:
        staff.verify(db, "Mia", "1111")
    assert unknown.value.message == wrong.value.message


def test_only_a_hash_of_the_pin_is_kept(db, member):
    stored = db.execute("SELECT secret_hash FROM staff").fetchone()[0]
    assert stored.startswith("$argon2id$") and "2468" not in stored


# --- the browser finder -----------------------------------------------------------------------


def test_a_system_chromium_is_used_first():
    found = finder.find_browser(env={}, which=lambda name: f"/usr/bin/{name}", bundled=lambda: "x")
    assert found == "/usr/bin/chromium"


def test_playwright_s_own_browser_when_the_system_has_none():
    assert finder.find_browser(env={}, which=lambda name: None, bundled=lambda: "/pw/chrome") == (
        "/pw/chrome"
    )


def test_a_missing_browser_is_downloaded_by_playwright_first():
    installed: list[list[str]] = []
    state = {"there": None}

    def run(command):
        installed.append(list(command))
        state["there"] = "/pw/chrome"
        return True

    path = finder.ensure_browser(find=lambda: state["there"], run=run, which=lambda name: None)
    assert path == "/pw/chrome"
    assert installed[0][-3:] == ["playwright", "install", "chromium"]


def test_without_network_the_package_manager_installs_it(monkeypatch):
    monkeypatch.setattr(finder.os, "geteuid", lambda: 0)
    installed: list[list[str]] = []
    state = {"there": None}

    def run(command):
        installed.append(list(command))
        if command[:2] == ["apt-get", "install"]:
            state["there"] = "/usr/bin/chromium"
            return True
        return command[:2] == ["apt-get", "update"]

    which = {"apt-get": "/usr/bin/apt-get"}.get
    assert finder.ensure_browser(find=lambda: state["there"], run=run, which=which) == (
        "/usr/bin/chromium"
    )
    assert [c[:2] for c in installed[1:]] == [["apt-get", "update"], ["apt-get", "install"]]


def test_no_way_to_a_browser_says_what_to_do():
    with pytest.raises(SystemExit) as stopped:
        finder.ensure_browser(find=lambda: None, run=lambda command: False, which=lambda name: None)
    assert "BOOKING_TEST_CHROMIUM" in str(stopped.value)
