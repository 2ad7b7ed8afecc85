"""The counter's pages through Flask's test client: staff sign-in, settings, week view, booking
from the grid, the customer picker, customer history, shop closures, the sync page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain import shop_settings, staff
from app.web.ui import day as day_page
from tests.conftest import unchanged
from tests.ui.conftest import DAY, Desk, api_get, field_error

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def member(db):
    return staff.create(db, staff.NewMember(name="Mia", role="booking:write", secret="2468"))


def staff_desk(app, name: str = "Mia", pin: str = "2468", remember: bool = False):
    desk = Desk(app.test_client())
    form = {"staff_name": name, "pin": pin, **({"remember": "1"} if remember else {})}
    return desk, desk.post("/signin", form)


# --- staff sign-in ----------------------------------------------------------------------------


def test_staff_sign_in_with_name_and_pin_and_act_under_their_name(app, member, make_booking):
    desk, response = staff_desk(app)
    assert response.status_code == 302
    booking = make_booking()
    assert (
        desk.post(f"/bookings/{booking['id']}/transition", {"status": "confirmed"}).status_code
        == 302
    )
    page = desk.text(f"/bookings/{booking['id']}")
    assert "Mia" in page  # the timeline names who confirmed


def test_a_wrong_pin_is_refused_by_the_field_and_signs_nobody_in(app, member):
    desk, response = staff_desk(app, pin="0000")
    assert response.status_code == 401
    assert "do not match" in field_error(response.get_data(as_text=True), "f-pin")
    assert desk.get("/day").headers["Location"].startswith("/signin")


def test_five_wrong_pins_lock_the_account_with_a_429_page(app, db, member):
    for _ in range(staff.MAX_FAILURES):
        staff_desk(app, pin="0000")
    desk, response = staff_desk(app)  # the right PIN, too late
    assert response.status_code == 429
    assert "locked for 15 minutes" in response.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM ui_sessions").fetchone()[0] == 0


def test_a_remembered_sign_in_outlives_the_browser_and_a_plain_one_does_not(app, member):
    _, plain = staff_desk(app)
    _, kept = staff_desk(app, remember=True)
    assert "Expires=" not in plain.headers["Set-Cookie"]
    expires = re.search(r"Expires=([^;]+)", kept.headers["Set-Cookie"]).group(1)
    assert datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT") > datetime.utcnow() + timedelta(
        days=29
    )


def test_removing_a_staff_member_signs_them_out_everywhere(app, desk, member):
    mia, _ = staff_desk(app)
    admin = desk("booking:admin")
    assert admin.post(f"/staff/{member['id']}/delete").status_code == 302
    assert mia.get("/day").headers["Location"].startswith("/signin")


def test_a_role_is_a_scope_counter_staff_cannot_manage_staff(app, member, db):
    mia, _ = staff_desk(app)
    assert mia.get("/staff").status_code == 403
    with unchanged(db):
        refused = mia.post("/staff", {"name": "Eve", "role": "booking:admin", "secret": "1234"})
    assert refused.status_code == 403


def test_an_admin_adds_staff_who_can_sign_in(app, desk):
    admin = desk("booking:admin")
    response = admin.post("/staff", {"name": "Noah", "role": "booking:read", "secret": "135790"})
    assert response.status_code == 302
    noah, signed_in = staff_desk(app, "noah", "135790")
    assert signed_in.status_code == 302
    assert noah.get("/bookings/new").status_code == 403  # looks only


@pytest.mark.parametrize(
    "form,field",
    [({"name": "", "role": "booking:write", "secret": "1234"}, "f-name"),
     ({"name": "Mia", "role": "booking:write", "secret": "1234"}, "f-name"),
     ({"name": "Eve", "role": "root", "secret": "1234"}, "f-role"),
     ({"name": "Eve", "role": "booking:write", "secret": "12"}, "f-secret")],
)  # fmt: skip
def test_a_bad_staff_form_names_the_field_and_makes_nobody(desk, db, member, form, field):
    admin = desk("booking:admin")
    with unchanged(db):
        response = admin.post("/staff", form)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)


def test_an_admin_unlocks_and_resets_a_pin(app, desk, member):
    for _ in range(staff.MAX_FAILURES):
        staff_desk(app, pin="0000")
    admin = desk("booking:admin")
    assert "Locked until" in admin.text("/staff")
    admin.post(f"/staff/{member['id']}/unlock")
    assert staff_desk(app)[1].status_code == 302
    admin.post(f"/staff/{member['id']}", {"role": "booking:write", "secret": "97531"})
    assert staff_desk(app)[1].status_code == 401
    assert staff_desk(app, pin="97531")[1].status_code == 302


# --- settings: clock, first weekday, country --------------------------------------------------


def test_a_12_hour_shop_shows_and_reads_12_hour_times(
    desk, db, make_resource, client, admin_headers
):
    shop_settings.update(db, country="", clock="12h", first_weekday="mon")
    resource = make_resource(timezone="UTC", business_hours={"mon": [["09:00", "17:00"]]})
    admin = desk("booking:admin")
    assert "9:00 AM–5:00 PM" in admin.text("/resources")
    page = admin.text(f"/bookings/new?resource_id={resource['id']}&date={DAY}")
    assert ">2:30 PM<" in page and ">14:30<" not in page
    response = admin.post(
        "/bookings/new",
        {
            "resource_id": resource["id"],
            "date": DAY,
            "start_time": "other",
            "other_time": "3:15 pm",
        },
    )
    assert response.status_code == 302
    booking = api_get(
        client,
        response.headers["Location"].replace("/bookings/", "/modules/booking/bookings/"),
        admin_headers,
    )
    assert booking["start_time"] == f"{DAY}T15:15:00Z"


def test_weekdays_are_listed_from_the_shop_s_first_weekday(desk, db, make_resource):
    hours = {day: [["09:00", "17:00"]] for day in ("fri", "mon", "sat", "sun")}
    make_resource(business_hours=hours)
    admin = desk("booking:admin")
    listed = re.search(r"<td>\s*(Mon.*?)</td>", admin.text("/resources"), re.S).group(1)
    assert [d for d in ("Mon", "Fri", "Sat", "Sun") if d in listed] == ["Mon", "Fri", "Sat", "Sun"]
    assert listed.index("Mon") < listed.index("Fri") < listed.index("Sat") < listed.index("Sun")
    shop_settings.update(db, country="", clock="24h", first_weekday="sun")
    html = admin.text("/resources")
    row = html[html.index("Sun 09:00") :]
    assert row.index("Sun") < row.index("Mon") < row.index("Fri") < row.index("Sat")
    assert html.index('id="f-day-sun"') < html.index('id="f-day-mon"')


@pytest.mark.parametrize(
    "form,field",
    [({"country": "XX", "clock": "24h", "first_weekday": "mon"}, "f-country"),
     ({"country": "DE", "clock": "25h", "first_weekday": "mon"}, "f-clock"),
     ({"country": "DE", "clock": "24h", "first_weekday": "someday"}, "f-first-weekday")],
)  # fmt: skip
def test_bad_settings_are_refused_by_the_field_and_change_nothing(desk, db, form, field):
    admin = desk("booking:admin")
    with unchanged(db):
        response = admin.post("/settings", form)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)


def test_settings_are_for_admins(desk, db):
    writer = desk("booking:write")
    with unchanged(db):
        assert (
            writer.post(
                "/settings", {"country": "DE", "clock": "12h", "first_weekday": "sun"}
            ).status_code
            == 403
        )


# --- the day and week views -------------------------------------------------------------------


def test_new_booking_from_a_day_keeps_that_day(desk, make_resource):
    make_resource()
    writer = desk("booking:write")
    html = writer.text(f"/day?date={DAY}")
    assert f'href="/bookings/new?date={DAY}"' in html


def test_an_empty_quarter_hour_books_that_resource_day_and_time(desk, make_resource):
    resource = make_resource(timezone="Europe/Berlin", business_hours={"tue": [["09:00", "17:00"]]})
    writer = desk("booking:write")
    html = writer.text("/day?date=2030-01-08")
    link = f"/bookings/new?resource_id={resource['id']}&amp;date=2030-01-08&amp;time=10:30"
    assert link in html
    assert "time=08:45" not in html  # closed then
    form = writer.text(link.replace("&amp;", "&"))
    assert re.search(r'value="2030-01-08T09:30:00Z" checked', form)  # 10:30 Berlin


def test_a_clicked_time_without_a_free_slot_becomes_another_time(desk, make_resource):
    resource = make_resource(timezone="UTC")
    writer = desk("booking:write")
    form = writer.text(f"/bookings/new?resource_id={resource['id']}&date={DAY}&time=10:07")
    assert 'id="slot-other" name="start_time" value="other" checked' in form
    assert 'value="10:07"' in form


def test_booked_and_blocked_time_has_no_empty_cells(desk, make_booking, client, admin_headers):
    make_booking(start_time=f"{DAY}T10:00:00Z")
    html = desk("booking:write").text(f"/day?date={DAY}")
    assert "time=10:00" not in html and "time=10:45" not in html
    assert "time=11:00" in html


def test_past_days_offer_no_cells_and_today_has_a_now_line(desk, make_resource, monkeypatch):
    make_resource()
    writer = desk("booking:write")
    # Noon today, inside the grid's 08:00-18:00 whatever the hour the suite runs at.
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(day_page, "wall_ms", lambda: int(noon.timestamp() * 1000))
    assert 'class="free-cell"' not in writer.text("/day?date=2000-01-03")
    assert 'class="now-line"' in writer.text("/day")


def test_an_all_day_blocker_shows_its_label_inside_the_grid(
    desk, make_resource, client, admin_headers
):
    resource = make_resource(timezone="UTC", business_hours={"mon": [["09:00", "17:00"]]})
    body = {"resource_id": resource["id"], "title": "Holiday", "start_time": f"{DAY}T00:00:00Z",
            "end_time": f"{DAY}T01:00:00Z", "all_day": True}  # fmt: skip
    client.post("/modules/booking/blockers", json=body, headers=admin_headers)
    html = desk("booking:read").text(f"/day?date={DAY}")
    top = re.search(r'class="blocked" style="--top: (-?\d+)', html).group(1)
    assert int(top) == 0 and "Blocked: Holiday" in html


def test_the_week_of_a_resource_and_of_the_shop(
    desk, make_resource, make_booking, make_customer, db
):
    chair = make_resource(name="Chair 1", timezone="UTC")
    other = make_resource(name="Chair 2", timezone="UTC")
    ada = make_customer(name="Ada Lovelace")
    make_booking(resource_id=chair["id"], start_time="2030-01-09T10:00:00Z", customer_id=ada["id"])
    make_booking(resource_id=other["id"], start_time="2030-01-12T11:00:00Z", title="Colour")
    reader = desk("booking:read")
    shop = reader.text("/week?date=2030-01-09")
    assert "Mon 7" in shop and "Sun 13" in shop
    assert "10:00 Ada Lovelace" in shop and "11:00 Colour" in shop
    week = reader.text(f"/week?date=2030-01-09&resource_id={chair['id']}")
    assert "Chair 1: Mon 7 Jan – Sun 13 Jan 2030" in week
    assert "Colour" not in week and "Ada Lovelace" in week
    shop_settings.update(db, country="", clock="24h", first_weekday="sun")
    assert "Shop: Sun 6 Jan – Sat 12 Jan 2030" in reader.text("/week?date=2030-01-09")


def test_a_bad_week_date_says_so_and_shows_this_week(desk):
    html = desk("booking:read").text("/week?date=someday")
    assert "Use a date such as" in html


def test_the_day_prints_as_a_sheet(desk, make_booking, make_customer):
    ada = make_customer(name="Ada Lovelace", phone="+49 151 2345678")
    make_booking(customer_id=ada["id"], title="Haircut", notes="Short")
    html = desk("booking:read").text(f"/day?date={DAY}")
    sheet = html[html.index('class="day-sheet') :]
    assert "Ada Lovelace" in sheet and "+49 151 2345678" in sheet and "Short" in sheet


# --- the customer picker and the customers' pages ---------------------------------------------


def test_the_picker_suggests_by_name_and_phone_spelling(desk, db, make_customer):
    shop_settings.update(db, country="DE", clock="24h", first_weekday="mon")
    ada = make_customer(name="Ada Lovelace", phone="+49 151 2345678")
    writer = desk("booking:write")
    for typed in ("lov", "0151 2345678", "+491512345678"):
        found = writer.client.get("/customers/suggest", query_string={"q": typed}).json
        assert [c["id"] for c in found] == [ada["id"]], typed
    assert writer.client.get("/customers/suggest", query_string={"q": ""}).json == []


def test_the_picker_needs_a_sign_in(app):
    response = app.test_client().get("/customers/suggest?q=ada")
    assert response.status_code == 302


def test_a_typed_customer_not_picked_is_refused_with_the_matches(
    desk, db, make_resource, make_customer
):
    resource = make_resource(timezone="UTC")
    make_customer(name="Ada Lovelace")
    writer = desk("booking:write")
    form = {"resource_id": resource["id"], "date": DAY, "start_time": f"{DAY}T10:00:00Z",
            "customer_q": "Ada"}  # fmt: skip
    with unchanged(db):
        response = writer.post("/bookings/new", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Pick the customer" in html and 'name="customer_pick"' in html and "Ada Lovelace" in html


def test_a_customer_picked_without_scripts_is_booked(
    desk, make_resource, make_customer, client, admin_headers
):
    resource = make_resource(timezone="UTC")
    ada = make_customer(name="Ada Lovelace")
    writer = desk("booking:write")
    form = {"resource_id": resource["id"], "date": DAY, "start_time": f"{DAY}T10:00:00Z",
            "customer_q": "Ada", "customer_pick": ada["id"]}  # fmt: skip
    response = writer.post("/bookings/new", form)
    assert response.status_code == 302
    booking_id = response.headers["Location"].rsplit("/", 1)[1]
    assert (
        api_get(client, f"/modules/booking/bookings/{booking_id}", admin_headers)["customer_id"]
        == ada["id"]
    )


def test_the_booking_form_lists_no_customers_up_front(desk, make_resource, make_customer):
    make_resource()
    make_customer(name="Ada Lovelace")
    assert "Ada Lovelace" not in desk("booking:write").text("/bookings/new")


def test_the_customers_page_search_finds_phone_spellings(desk, db, make_customer):
    shop_settings.update(db, country="DE", clock="24h", first_weekday="mon")
    make_customer(name="Ada Lovelace", phone="+49 151 2345678")
    html = desk("booking:read").text("/customers?q=0151+2345678")
    assert "Ada Lovelace" in html


def test_a_customer_page_shows_notes_whole_history_and_no_shows(
    desk, make_resource, make_customer, client, admin_headers
):
    resource = make_resource(timezone="UTC")
    ada = make_customer(name="Ada Lovelace")
    made = []
    for day in range(25):
        start = (datetime(2020, 1, 6) + timedelta(days=day)).strftime("%Y-%m-%dT10:00:00Z")
        body = {"resource_id": resource["id"], "customer_id": ada["id"], "start_time": start}
        made.append(
            client.post("/modules/booking/bookings", json=body, headers=admin_headers).json["data"]
        )
    for booking in made[:2]:
        path = f"/modules/booking/bookings/{booking['id']}/transition"
        client.post(path, json={"status": "confirmed"}, headers=admin_headers)
        client.post(path, json={"status": "no_show"}, headers=admin_headers)
    writer = desk("booking:write")
    assert (
        writer.post(f"/customers/{ada['id']}/notes", {"notes": "Allergic to latex"}).status_code
        == 302
    )
    page = writer.text(f"/customers/{ada['id']}")
    assert "Allergic to latex" in page
    assert "25 bookings in all" in page and "2 no-shows" in page
    assert "Thu 30 Jan 2020" in page and "Mon 6 Jan 2020" not in page  # newest first, 20 a page
    older = re.search(r'href="(/customers/[^"]+before=[^"]+)"', page).group(1)
    second = writer.text(older.replace("&amp;", "&"))
    assert "Mon 6 Jan 2020" in second and "Thu 30 Jan 2020" not in second


def test_notes_over_2000_characters_are_refused_and_change_nothing(desk, db, make_customer):
    ada = make_customer()
    writer = desk("booking:write")
    with unchanged(db):
        response = writer.post(f"/customers/{ada['id']}/notes", {"notes": "x" * 2001})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "f-notes")


# --- shop closures and the sync page ----------------------------------------------------------


def test_the_blocker_form_closes_the_whole_shop_in_one_go(
    desk, make_resource, client, admin_headers
):
    for n in (1, 2, 3):
        make_resource(name=f"Chair {n}", timezone="Europe/Berlin")
    writer = desk("booking:write")
    response = writer.post("/blockers", {
        "resource_id": "shop", "title": "Christmas", "start_date": "2030-12-25", "all_day": "1",
    })  # fmt: skip
    assert response.status_code == 302
    made = api_get(client, "/modules/booking/blockers", admin_headers)
    assert len(made) == 3 and {b["title"] for b in made} == {"Christmas"}
    assert {b["start_time"] for b in made} == {"2030-12-24T23:00:00Z"}
    day = writer.text("/day?date=2030-12-25")
    grid = day[: day.index('class="day-sheet')]
    assert grid.count("Blocked: Christmas") == 3


def test_a_bad_shop_closure_is_refused_by_the_field_and_makes_nothing(desk, db, make_resource):
    make_resource()
    make_resource(name="Chair 2")
    writer = desk("booking:write")
    with unchanged(db):
        response = writer.post("/blockers", {
            "resource_id": "shop", "title": "Oops", "start_date": "2030-12-25",
            "start_clock": "14:00", "end_clock": "13:00",
        })  # fmt: skip
    assert response.status_code == 422
    assert "after start_time" in response.get_data(as_text=True)


def test_a_repeating_break_made_on_a_saturday_is_listed_from_its_first_weekday(
    desk, make_resource, client, admin_headers
):
    resource = make_resource(timezone="UTC")
    weekdays = ["MO", "TU", "WE", "TH", "FR"]
    body = {"resource_id": resource["id"], "title": "Lunch", "start_time": "2030-01-05T12:00:00Z",
            "end_time": "2030-01-05T13:00:00Z",
            "recurrence": {"freq": "weekly", "by_weekday": weekdays}}  # fmt: skip
    client.post("/modules/booking/blockers", json=body, headers=admin_headers)
    html = desk("booking:read").text("/blockers")
    assert "Mon 7 Jan 2030, 12:00" in html and "Sat 5 Jan" not in html


def test_the_sync_page_says_no_hub_set_instead_of_a_count(desk, make_customer):
    make_customer()
    html = desk("booking:read").text("/sync")
    waiting = re.search(r"Changes waiting to be sent</dt><dd>(.*?)</dd>", html).group(1)
    assert waiting.startswith("No hub set") and not re.search(r"\d", waiting)


def test_a_sign_in_link_made_for_a_staff_member_signs_them_in_as_their_role(app, db, member):
    """`booking open` could hand a counter laptop's browser a staff session the same way."""
    import hashlib

    from app import store
    from app.core.times import wall_ms
    from app.store import signin_links

    token = "a-token-for-mia"
    with store.transaction(db):
        signin_links.insert_signin_link(
            db, hashlib.sha256(token.encode()).hexdigest(), member["id"], wall_ms() + 60_000
        )
    browser = Desk(app.test_client())
    assert browser.get(f"/signin/link?token={token}").status_code == 302
    assert ">Mia<" in browser.text("/day")
    assert browser.get("/staff").status_code == 403  # a counter role, not a manager
    again = Desk(app.test_client()).get(f"/signin/link?token={token}")
    assert again.status_code == 401
