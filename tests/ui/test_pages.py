"""The browser UI through Flask's test client: sign-in, CSRF, scopes, and the API's rules."""

from __future__ import annotations

import re
import sqlite3

import pytest

from app import store
from app.web.auth import revoke_key
from tests.conftest import unchanged
from tests.ui.conftest import DAY, Desk, api_get, field_error, key_id, key_text

# --- signing in and out ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/day", "/bookings/new", "/customers", "/resources", "/blockers", "/sync"]
)
def test_signed_out_visitors_are_sent_to_sign_in(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin")


def test_sign_in_remembers_the_page_asked_for(app, admin_headers):
    visitor = Desk(app.test_client())
    assert visitor.get("/customers?q=ada").headers["Location"] == "/signin?next=/customers?q%3Dada"
    response = visitor.post("/signin", {"api_key": key_text(admin_headers), "next": "/customers"})
    assert response.headers["Location"] == "/customers"


@pytest.mark.parametrize(
    "target",
    [
        "//elsewhere.example/",
        "/\\elsewhere.example",
        "/\t/elsewhere.example",
        "https://elsewhere.example/",
        "day",
    ],
)
def test_sign_in_never_redirects_off_the_site(app, admin_headers, target):
    visitor = Desk(app.test_client())
    response = visitor.post("/signin", {"api_key": key_text(admin_headers), "next": target})
    assert response.headers["Location"] == "/day"


def test_sign_out_forgets_the_key(desk):
    staff = desk("booking:write")
    assert staff.get("/day").status_code == 200
    assert staff.post("/signout").headers["Location"] == "/signin"
    assert staff.get("/day").status_code == 302


def test_a_wrong_key_is_refused_next_to_the_field(app):
    visitor = Desk(app.test_client())
    response = visitor.post("/signin", {"api_key": "sk_nope_nope"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "That key is not valid" in field_error(html, "f-api-key")
    assert 'aria-invalid="true"' in html
    assert visitor.get("/day").status_code == 302


def test_a_sync_key_cannot_sign_in_to_the_pages(app, make_key):
    visitor = Desk(app.test_client())
    response = visitor.post("/signin", {"api_key": key_text(make_key("sync"))})
    assert response.status_code == 403
    assert "hub sync only" in response.get_data(as_text=True)


def test_the_session_cookie_is_signed_httponly_lax_and_holds_only_a_session_id(app, admin_headers):
    visitor = Desk(app.test_client())
    key = key_text(admin_headers)
    response = visitor.post("/signin", {"api_key": key})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = cookie.split(";")[0].partition("=")[2]
    session = app.session_interface.get_signing_serializer(app).loads(value)
    assert set(session) == {"sid", "_flashes"}
    assert key.rpartition("_")[2] not in value and key.rpartition("_")[2] not in str(session)


def test_a_revoked_key_is_signed_out_at_once(desk, db):
    staff = desk("booking:admin")
    assert staff.get("/day").status_code == 200
    revoke_key(db, key_id(staff.key))
    assert staff.get("/day").headers["Location"].startswith("/signin")


def test_the_session_secret_is_kept_in_the_database(app, db_path):
    db = store.open_db(db_path)
    try:
        assert app.secret_key == store.meta(db, "session_secret")
        assert len(app.secret_key) >= 32
    finally:
        db.close()


def test_pages_spend_a_limited_keys_tokens_like_the_api(desk):
    staff = desk("booking:read", tokens=2)
    assert staff.get("/day").status_code == 200
    assert staff.get("/day").status_code == 200
    response = staff.get("/day")
    assert response.status_code == 402
    assert "no tokens left" in response.get_data(as_text=True)


# --- CSRF --------------------------------------------------------------------------------------


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(desk, db):
    staff = desk("booking:admin")
    with unchanged(db):
        response = staff.post("/customers", {"name": "Mallory"}, csrf=False)
    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)


def test_a_form_with_another_sessions_token_is_refused_and_changes_nothing(desk, db):
    staff, other = desk("booking:admin"), desk("booking:admin")
    with unchanged(db):
        response = staff.post("/customers", {"name": "Mallory", "csrf_token": other.csrf()})
    assert response.status_code == 400


def test_sign_in_itself_needs_the_csrf_token(app, admin_headers):
    visitor = Desk(app.test_client())
    response = visitor.post("/signin", {"api_key": key_text(admin_headers)}, csrf=False)
    assert response.status_code == 400
    assert visitor.get("/day").status_code == 302


def test_every_form_on_a_page_carries_the_csrf_token(desk, make_booking):
    booking = make_booking()
    html = desk("booking:admin").text(f"/bookings/{booking['id']}")
    forms = re.findall(r'<form method="post".*?</form>', html, re.S)
    assert len(forms) >= 4  # sign out, confirm, cancel, edit, delete
    assert all('name="csrf_token"' in form for form in forms)


# --- every page, and what each scope may do ---------------------------------------------------


def test_every_page_renders_for_a_signed_in_user(desk, make_booking, make_customer):
    customer = make_customer(phone="+49 30 1")
    booking = make_booking(customer_id=customer["id"], title="Haircut")
    staff = desk("booking:read")
    for path in (
        "/day",
        f"/day?date={DAY}",
        "/customers",
        "/customers?q=Ada&tags=x",
        f"/customers/{customer['id']}",
        "/resources",
        "/blockers",
        "/sync",
        f"/bookings/{booking['id']}",
    ):
        html = staff.text(path)
        assert 'href="#main">Skip to content' in html and re.search(r"<h1>\s*\S", html), path
    day = staff.text(f"/day?date={DAY}")
    assert "Haircut · Ada Lovelace" in day and "Pending" in day


def test_pages_use_only_the_apps_own_assets(desk):
    staff = desk("booking:read")
    html = staff.text("/day")
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for asset in ("/static/app.css", "/static/app.js"):
        with staff.get(asset) as response:  # a file response: close it
            assert response.status_code == 200


def test_pages_allow_no_other_site_no_framing_and_no_caching(desk):
    response = desk("booking:read").get("/day")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unknown_booking_is_a_404_page(desk):
    response = desk("booking:read").get("/bookings/bk_01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_a_read_key_sees_no_buttons_that_change_things(desk, make_booking, make_customer, db):
    customer = make_customer()
    booking = make_booking()
    staff = desk("booking:read")
    assert "New booking" not in staff.text("/day")
    assert "Add a customer" not in staff.text("/customers")
    assert "Add a resource" not in staff.text("/resources")
    assert "Add a blocker" not in staff.text("/blockers")
    assert "Delete" not in staff.text(f"/customers/{customer['id']}")
    page = staff.text(f"/bookings/{booking['id']}")
    assert "Confirm" not in page and "Cancel booking" not in page and "Save" not in page
    assert "Sync now" not in staff.text("/sync")
    assert staff.get("/bookings/new").status_code == 403
    with unchanged(db):
        assert staff.post("/customers", {"name": "Nope"}).status_code == 403
        response = staff.post(f"/bookings/{booking['id']}/transition", {"status": "confirmed"})
        assert response.status_code == 403


def test_a_write_key_may_book_but_not_delete_for_good(desk, make_booking, make_customer, db):
    customer = make_customer()
    booking = make_booking()
    staff = desk("booking:write")
    page = staff.text(f"/bookings/{booking['id']}")
    assert "Confirm" in page and "Delete booking" not in page
    assert "Delete customer" not in staff.text(f"/customers/{customer['id']}")
    assert "Delete</button>" not in staff.text("/resources").replace("<span", "</button><span")
    with unchanged(db):
        assert staff.post(f"/customers/{customer['id']}/delete").status_code == 403
        assert staff.post(f"/bookings/{booking['id']}/delete").status_code == 403


def test_an_admin_key_sees_the_delete_buttons(desk, make_booking, make_customer):
    customer = make_customer()
    booking = make_booking()
    staff = desk("booking:admin")
    assert "Delete booking" in staff.text(f"/bookings/{booking['id']}")
    assert "Delete customer" in staff.text(f"/customers/{customer['id']}")
    assert "Sync now" in staff.text("/sync")


# --- customers --------------------------------------------------------------------------------


def test_a_customer_is_created_searched_edited_and_deleted(desk, client, admin_headers):
    staff = desk("booking:admin")
    response = staff.post("/customers", {"name": "Ada Lovelace", "tags": "vip, regular"})
    assert response.status_code == 302
    customer_id = response.headers["Location"].rpartition("/")[2]
    assert "Ada Lovelace" in staff.text("/customers?q=love&tags=vip")
    assert "Ada Lovelace" not in staff.text("/customers?q=love&tags=other")
    edited = staff.post(f"/customers/{customer_id}", {"name": "Ada King", "phone": "+44 1"})
    assert edited.status_code == 302
    record = api_get(client, f"/modules/booking/customers/{customer_id}", admin_headers)
    assert (record["name"], record["phone"], record["tags"]) == ("Ada King", "+44 1", [])
    assert staff.post(f"/customers/{customer_id}/delete").status_code == 302
    assert "Ada King</a>" not in staff.text("/customers")


def test_a_validation_error_is_shown_next_to_its_field_and_changes_nothing(desk, db):
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post("/customers", {"name": "Ada", "email": "not an email"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "email address" in field_error(html, "f-email")
    assert re.search(r'id="f-email"[^>]*aria-describedby="f-email-error"', html, re.S)
    assert 'value="not an email"' in html  # the form keeps what was typed


def test_a_blank_name_is_refused_like_the_api(desk, db):
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post("/customers", {"name": "   "})
    assert response.status_code == 422
    assert "blank" in field_error(response.get_data(as_text=True), "f-name")


# --- resources and blockers -------------------------------------------------------------------


def test_a_resource_is_created_with_opening_hours(desk, client, admin_headers):
    staff = desk("booking:write")
    response = staff.post(
        "/resources",
        {
            "name": "Chair 1",
            "timezone": "Europe/Berlin",
            "default_duration_minutes": "45",
            "buffer_minutes": "5",
            "business_days": ["mon", "sat"],
            "opens": "09:00",
            "closes": "17:00",
        },
    )
    assert response.status_code == 302
    made = api_get(client, "/modules/booking/resources", admin_headers)[0]
    assert made["business_hours"] == {"mon": [["09:00", "17:00"]], "sat": [["09:00", "17:00"]]}
    assert (made["default_duration_minutes"], made["buffer_minutes"]) == (45, 5)
    assert "Mon 09:00–17:00" in staff.text("/resources")


def test_a_bad_resource_form_names_each_field_and_changes_nothing(desk, db):
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(
            "/resources",
            {"name": "Chair", "timezone": "Mars/Base", "default_duration_minutes": "ten"},
        )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "IANA" in field_error(html, "f-timezone")
    assert field_error(html, "f-default-duration-minutes")


def test_a_resource_with_upcoming_bookings_is_not_deleted(desk, make_booking, db):
    booking = make_booking()
    staff = desk("booking:admin")
    with unchanged(db):
        response = staff.post(f"/resources/{booking['resource_id']}/delete")
    assert response.status_code == 422
    assert "upcoming bookings" in response.get_data(as_text=True)


def test_a_weekly_blocker_shows_in_the_day_view_and_can_be_deleted(desk, make_resource):
    resource = make_resource(timezone="Europe/Berlin")
    staff = desk("booking:write")
    response = staff.post(
        "/blockers",
        {
            "resource_id": resource["id"],
            "title": "Lunch",
            "start_date": DAY,
            "start_clock": "12:00",
            "end_clock": "13:00",
            "recurrence.freq": "weekly",
            "recurrence.interval": "1",
        },
    )
    assert response.status_code == 302
    day = staff.text("/day?date=2030-01-14")
    assert "Blocked: Lunch" in day and "12:00–13:00" in day
    assert "Blocked: Lunch" not in staff.text("/day?date=2030-01-15")
    blocker_id = re.search(r"/blockers/(blk_\w+)/delete", staff.text("/blockers")).group(1)
    assert staff.post(f"/blockers/{blocker_id}/delete").status_code == 302
    assert "Blocked: Lunch" not in staff.text("/day?date=2030-01-14")


def test_an_all_day_blocker_covers_whole_local_days(desk, make_resource, client, admin_headers):
    resource = make_resource(timezone="Europe/Berlin")
    staff = desk("booking:write")
    response = staff.post(
        "/blockers",
        {
            "resource_id": resource["id"],
            "title": "Holiday",
            "start_date": DAY,
            "end_date": "2030-01-08",
            "all_day": "1",
        },
    )
    assert response.status_code == 302
    made = api_get(client, "/modules/booking/blockers", admin_headers)[0]
    assert (made["start_time"], made["end_time"]) == (
        "2030-01-06T23:00:00Z",
        "2030-01-08T23:00:00Z",
    )
    assert made["all_day"] is True


def test_a_blocker_over_a_booking_names_it_so_staff_can_call(desk, make_booking):
    booking = make_booking()
    staff = desk("booking:write")
    response = staff.post(
        "/blockers",
        {
            "resource_id": booking["resource_id"],
            "start_date": DAY,
            "start_clock": "09:00",
            "end_clock": "12:00",
        },
    )
    assert response.status_code == 302
    assert booking["id"] in staff.text("/blockers")


def test_a_bad_recurrence_is_refused_by_its_field_and_changes_nothing(desk, make_resource, db):
    resource = make_resource()
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(
            "/blockers",
            {
                "resource_id": resource["id"],
                "start_date": DAY,
                "start_clock": "12:00",
                "end_clock": "13:00",
                "recurrence.by_weekday": "MO",
            },
        )
    assert response.status_code == 422
    assert "Give freq" in field_error(response.get_data(as_text=True), "f-recurrence-freq")


def test_a_blocker_ending_before_it_starts_is_refused_and_changes_nothing(desk, make_resource, db):
    resource = make_resource()
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(
            "/blockers",
            {
                "resource_id": resource["id"],
                "start_date": DAY,
                "start_clock": "12:00",
                "end_clock": "11:00",
            },
        )
    assert response.status_code == 422
    assert "after start_time" in field_error(response.get_data(as_text=True), "f-end-time")


# --- bookings ---------------------------------------------------------------------------------


def test_the_new_booking_page_offers_the_availability_slots(desk, make_resource, make_booking):
    resource = make_resource(business_hours={"mon": [["09:00", "12:00"]]})
    make_booking(resource_id=resource["id"])  # 10:00-11:00 UTC
    html = desk("booking:write").text(
        f"/bookings/new?resource_id={resource['id']}&date={DAY}&duration_minutes=60"
    )
    offered = re.findall(r'name="start_time" value="([^"]+)"', html)
    assert offered == ["2030-01-07T09:00:00Z", "2030-01-07T11:00:00Z", "other"]


def test_booking_a_slot_with_a_new_customer_makes_both(desk, make_resource, client, admin_headers):
    resource = make_resource()
    staff = desk("booking:write")
    response = staff.post(
        "/bookings/new",
        {
            "resource_id": resource["id"],
            "date": DAY,
            "duration_minutes": "30",
            "start_time": f"{DAY}T09:00:00Z",
            "new_customer_name": "Grace Hopper",
            "new_customer_phone": "+1 555",
            "title": "Colour",
        },
    )
    assert response.status_code == 302
    booking_id = response.headers["Location"].rpartition("/")[2]
    booking = api_get(client, f"/modules/booking/bookings/{booking_id}", admin_headers)
    customer = api_get(
        client, f"/modules/booking/customers/{booking['customer_id']}", admin_headers
    )
    assert (customer["name"], customer["phone"]) == ("Grace Hopper", "+1 555")
    assert (booking["duration_minutes"], booking["title"], booking["status"]) == (
        30,
        "Colour",
        "pending",
    )
    assert "Grace Hopper" in staff.text(f"/bookings/{booking_id}")


def test_another_time_is_read_in_the_resources_zone(desk, make_resource, client, admin_headers):
    resource = make_resource(timezone="Europe/Berlin")
    response = desk("booking:write").post(
        "/bookings/new",
        {
            "resource_id": resource["id"],
            "date": DAY,
            "duration_minutes": "45",
            "start_time": "other",
            "other_time": "10:00",
        },
    )
    booking_id = response.headers["Location"].rpartition("/")[2]
    booking = api_get(client, f"/modules/booking/bookings/{booking_id}", admin_headers)
    assert (booking["start_time"], booking["end_time"]) == (
        "2030-01-07T09:00:00Z",
        "2030-01-07T09:45:00Z",
    )


def test_a_taken_slot_is_refused_by_the_field_and_changes_nothing(desk, make_booking, db):
    taken = make_booking()
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(
            "/bookings/new",
            {
                "resource_id": taken["resource_id"],
                "date": DAY,
                "duration_minutes": "30",
                "start_time": "other",
                "other_time": "10:15",
                "new_customer_name": "Grace",
            },
        )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "is not free" in html
    assert taken["id"] in field_error(html, "f-start-time")
    assert 'value="Grace"' in html


def test_a_new_booking_with_no_time_and_a_bad_customer_lists_both(desk, make_resource, db):
    resource = make_resource()
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(
            "/bookings/new",
            {
                "resource_id": resource["id"],
                "date": DAY,
                "customer_id": "new",
                "new_customer_name": " ",
                "title": "x" * 300,
            },
        )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose a free slot" in field_error(html, "f-start-time")
    assert field_error(html, "f-new-customer-name")
    assert field_error(html, "f-title")


def test_a_pending_booking_offers_only_its_valid_moves(desk, make_booking):
    booking = make_booking()
    html = desk("booking:write").text(f"/bookings/{booking['id']}")
    moves = re.findall(r'name="status" value="(\w+)"', html)
    assert moves == ["confirmed", "cancelled"]


def test_confirm_check_in_complete_fills_the_timeline(desk, make_booking):
    booking = make_booking()
    staff = desk("booking:write")
    for status in ("confirmed", "checked_in", "completed"):
        response = staff.post(f"/bookings/{booking['id']}/transition", {"status": status})
        assert response.status_code == 302
    html = staff.text(f"/bookings/{booking['id']}")
    assert re.findall(r'name="status" value="(\w+)"', html) == []
    steps = re.findall(r'<span class="event-what">\s*(.*?)\s*</span>', html, re.S)
    assert steps == [
        "Booked (pending)",
        "Pending → Confirmed",
        "Confirmed → Checked in",
        "Checked in → Completed",
    ]


def test_an_invalid_transition_names_the_allowed_moves_and_changes_nothing(desk, make_booking, db):
    booking = make_booking()
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(f"/bookings/{booking['id']}/transition", {"status": "completed"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "can only move to confirmed, cancelled" in html
    assert "Cannot go from pending to completed" in field_error(html, "f-status")


def test_cancel_keeps_its_reason(desk, make_booking, client, admin_headers):
    booking = make_booking()
    staff = desk("booking:write")
    response = staff.post(
        f"/bookings/{booking['id']}/transition",
        {"status": "cancelled", "cancel_reason": "Customer is ill"},
    )
    assert response.status_code == 302
    after = api_get(client, f"/modules/booking/bookings/{booking['id']}", admin_headers)
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "Customer is ill")
    assert "Customer is ill" in staff.text(f"/bookings/{booking['id']}")


def test_title_and_notes_are_edited_while_pending(desk, make_booking, client, admin_headers):
    booking = make_booking(title="Cut")
    staff = desk("booking:write")
    response = staff.post(
        f"/bookings/{booking['id']}/edit", {"title": "Cut and colour", "notes": "Allergic"}
    )
    assert response.status_code == 302
    after = api_get(client, f"/modules/booking/bookings/{booking['id']}", admin_headers)
    assert (after["title"], after["notes"]) == ("Cut and colour", "Allergic")
    assert "Edited notes, title" in staff.text(f"/bookings/{booking['id']}")


def test_a_completed_booking_cannot_be_edited(desk, make_booking, db):
    booking = make_booking()
    staff = desk("booking:write")
    for status in ("confirmed", "checked_in", "completed"):
        staff.post(f"/bookings/{booking['id']}/transition", {"status": status})
    assert "Save</button>" not in staff.text(f"/bookings/{booking['id']}")
    with unchanged(db):
        response = staff.post(f"/bookings/{booking['id']}/edit", {"title": "Late edit"})
    assert response.status_code == 422
    assert "cannot be edited" in response.get_data(as_text=True)


def test_an_admin_deletes_a_pending_booking(desk, make_booking):
    booking = make_booking()
    staff = desk("booking:admin")
    response = staff.post(f"/bookings/{booking['id']}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/day?date={DAY}"
    assert staff.get(f"/bookings/{booking['id']}").status_code == 404


# --- sync ------------------------------------------------------------------------------------


def test_sync_now_on_a_node_without_a_hub_says_so_and_changes_nothing(desk, db):
    staff = desk("booking:admin")
    with unchanged(db):
        response = staff.post("/sync")
    assert response.status_code == 422
    assert "This node has no hub configured" in response.get_data(as_text=True)


def test_sync_now_asks_the_worker(app, desk):
    class Worker:
        runs = 0

        def run_now(self) -> None:
            Worker.runs += 1

    app.extensions["booking.sync_worker"] = Worker()
    response = desk("booking:admin").post("/sync")
    assert response.status_code == 302 and Worker.runs == 1


def test_the_sync_page_lists_sync_conflict_cancellations_with_whom_to_call(
    desk, make_booking, make_customer, client, admin_headers
):
    customer = make_customer(name="Alan Turing", phone="+44 20 7946 0000")
    lost = make_booking(customer_id=customer["id"], start_time="2099-01-05T10:00:00Z")
    client.post(
        f"/modules/booking/bookings/{lost['id']}/transition",
        json={"status": "cancelled", "cancel_reason": "sync_conflict: overlaps bk_x"},
        headers=admin_headers,
    )
    html = desk("booking:read").text("/sync")
    assert "Alan Turing" in html and "+44 20 7946 0000" in html
    assert "Changes waiting to be sent" in html


def test_the_sync_page_says_when_this_database_took_a_node_id_of_its_own(desk, db, tmp_path):
    from app import create_app
    from app.web.auth import create_key

    notice = "this database has a node id of its own"
    assert notice not in desk("booking:read").text("/sync")  # the original says nothing
    target = tmp_path / "copy.db"
    with sqlite3.connect(target) as copy:
        db.conn.backup(copy)
    copy.close()
    copied = create_app({"TESTING": True, "DB": str(target)})
    copy_db = store.open_db(str(target))
    _, key = create_key(copy_db, name="desk", scopes=["booking:read"], rate_limit="600/minute")
    copy_db.close()
    staff = Desk(copied.test_client())
    assert staff.post("/signin", {"api_key": key}).status_code == 302
    text = staff.text("/sync")
    assert notice in text and "opened as a copy of another database file" in text
    assert store.node_id(db) in text  # the node it was copied from
