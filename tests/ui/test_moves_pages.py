"""The pages for moves, undos, services and the day's figures (API.md §8), without a browser:
what the counter sees, and that a refused form changes nothing."""

from __future__ import annotations

import re

import pytest

from tests.conftest import unchanged
from tests.ui.conftest import DAY, api_get

BOOKINGS = "/modules/booking/bookings"
PAST = "2020-01-06T10:00:00Z"  # a Monday that has started


@pytest.fixture
def chair(make_resource):
    return make_resource(name="Chair 1")


def status_buttons(html: str) -> list[str]:
    return re.findall(r'name="status" value="(\w+)"', html)


def advance(client, headers, booking_id: str, *statuses: str) -> None:
    for status in statuses:
        response = client.post(
            f"{BOOKINGS}/{booking_id}/transition", json={"status": status}, headers=headers
        )
        assert response.status_code == 200, response.json


# --- move -------------------------------------------------------------------------------------


def test_the_move_form_moves_a_booking_and_the_timeline_says_from_where(
    desk, client, admin_headers, make_booking, make_resource, chair
):
    other = make_resource(name="Chair 2")
    booking = make_booking(resource_id=chair["id"])
    staff = desk("booking:write")
    response = staff.post(
        f"/bookings/{booking['id']}/move",
        {
            "move_date": "2030-01-08",
            "move_time": "14:15",
            "move_resource_id": other["id"],
            "move_duration_minutes": "45",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/bookings/{booking['id']}"
    moved = api_get(client, f"{BOOKINGS}/{booking['id']}", admin_headers)
    assert (moved["resource_id"], moved["start_time"], moved["end_time"]) == (
        other["id"],
        "2030-01-08T14:15:00Z",
        "2030-01-08T15:00:00Z",
    )
    html = staff.text(f"/bookings/{booking['id']}")
    assert "Moved to Tue 8 Jan 2030, 14:15 on Chair 2." in html
    assert re.search(
        r"Moved from Mon 7 Jan 2030, 10:00–11:00\s*\(Chair 1\)\s*to Tue 8 Jan 2030, "
        r"14:15–15:00\s*\(Chair 2\)",
        html,
    )


def test_a_drag_from_the_day_view_returns_to_the_new_day(desk, make_booking, chair):
    booking = make_booking(resource_id=chair["id"])
    staff = desk("booking:write")
    response = staff.post(
        f"/bookings/{booking['id']}/move",
        {"start_time": "2030-01-09T09:00:00Z", "move_resource_id": chair["id"], "return_to": "day"},
    )
    assert response.headers["Location"] == "/day?date=2030-01-09"


def test_a_move_into_a_taken_slot_says_what_is_in_the_way_and_changes_nothing(
    desk, db, make_booking, make_customer, chair
):
    ada = make_customer(name="Ada Lovelace")
    make_booking(resource_id=chair["id"], start_time=f"{DAY}T14:00:00Z", customer_id=ada["id"])
    booking = make_booking(resource_id=chair["id"])
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(
            f"/bookings/{booking['id']}/move",
            {"move_date": DAY, "move_time": "14:30", "move_resource_id": chair["id"]},
        )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Chair 1 is not free from Mon 7 Jan 2030, 14:30 to Mon 7 Jan 2030, 15:30" in html
    assert "for Ada Lovelace" in html
    assert 'value="14:30"' in html  # the form keeps what was typed


def test_a_move_without_a_time_is_refused_by_the_field(desk, db, make_booking, chair):
    booking = make_booking(resource_id=chair["id"])
    staff = desk("booking:write")
    with unchanged(db):
        response = staff.post(
            f"/bookings/{booking['id']}/move", {"move_date": DAY, "move_time": ""}
        )
    assert response.status_code == 422
    assert 'id="f-move-time-error">Type a date and a time.' in response.get_data(as_text=True)


def test_a_move_outside_business_hours_asks_first(desk, db, client, admin_headers, make_resource):
    chair = make_resource(name="Chair 3", business_hours={"mon": [["09:00", "17:00"]]})
    booking = client.post(
        BOOKINGS,
        json={"resource_id": chair["id"], "start_time": f"{DAY}T10:00:00Z"},
        headers=admin_headers,
    ).json["data"]
    staff = desk("booking:write")
    form = {"move_date": DAY, "move_time": "18:00", "move_resource_id": chair["id"]}
    with unchanged(db):
        asked = staff.post(f"/bookings/{booking['id']}/move", form)
    assert asked.status_code == 200
    html = asked.get_data(as_text=True)
    assert "Chair 3 is closed at Mon 7 Jan 2030, 18:00. Move the booking there anyway?" in html
    assert 'name="outside_hours_ok" value="1"' in html and 'value="18:00"' in html
    answered = staff.post(f"/bookings/{booking['id']}/move", {**form, "outside_hours_ok": "1"})
    assert answered.status_code == 302
    assert api_get(client, f"{BOOKINGS}/{booking['id']}", admin_headers)["start_time"] == (
        f"{DAY}T18:00:00Z"
    )


def test_only_pending_and_confirmed_bookings_offer_a_move(
    desk, client, admin_headers, make_booking
):
    booking = make_booking()
    staff = desk("booking:write")
    assert 'id="move-h"' in staff.text(f"/bookings/{booking['id']}")
    advance(client, admin_headers, booking["id"], "confirmed", "checked_in")
    assert 'id="move-h"' not in staff.text(f"/bookings/{booking['id']}")
    assert 'id="move-h"' not in desk("booking:read").text(f"/bookings/{booking['id']}")


def test_a_read_key_cannot_move(desk, db, make_booking):
    booking = make_booking()
    reader = desk("booking:read")
    with unchanged(db):
        response = reader.post(
            f"/bookings/{booking['id']}/move", {"move_date": DAY, "move_time": "15:00"}
        )
    assert response.status_code == 403


# --- status rules and undo --------------------------------------------------------------------


def test_no_show_is_offered_only_once_the_booking_has_started(
    desk, db, client, admin_headers, make_booking
):
    future, past = make_booking(), make_booking(start_time=PAST)
    for booking in (future, past):
        advance(client, admin_headers, booking["id"], "confirmed")
    staff = desk("booking:write")
    html = staff.text(f"/bookings/{future['id']}")
    assert "no_show" not in status_buttons(html)
    assert "No-show can be marked once the booking has started." in html
    assert "no_show" in status_buttons(staff.text(f"/bookings/{past['id']}"))
    with unchanged(db):
        response = staff.post(f"/bookings/{future['id']}/transition", {"status": "no_show"})
    assert response.status_code == 422
    assert "A no-show can only be marked once the booking has started." in response.get_data(
        as_text=True
    )


def test_completing_a_booking_that_has_not_started_asks_first(
    desk, db, client, admin_headers, make_booking
):
    booking = make_booking()
    advance(client, admin_headers, booking["id"], "confirmed", "checked_in")
    staff = desk("booking:write")
    page = staff.text(f"/bookings/{booking['id']}")
    assert 'data-confirm="This booking has not started yet. Complete it anyway?"' in page
    with unchanged(db):
        asked = staff.post(f"/bookings/{booking['id']}/transition", {"status": "completed"})
    assert asked.status_code == 200
    assert "This booking has not started yet. Complete it anyway?" in asked.get_data(as_text=True)
    done = staff.post(
        f"/bookings/{booking['id']}/transition", {"status": "completed", "early_ok": "1"}
    )
    assert done.status_code == 302
    assert api_get(client, f"{BOOKINGS}/{booking['id']}", admin_headers)["status"] == "completed"


def test_undo_takes_a_mistaken_no_show_back_and_keeps_both_in_the_timeline(
    desk, client, admin_headers, make_booking
):
    booking = make_booking(start_time=PAST)
    advance(client, admin_headers, booking["id"], "confirmed", "no_show")
    staff = desk("booking:write")
    page = staff.text(f"/bookings/{booking['id']}")
    assert "Undo no-show</button>" in page
    event_id = re.search(r'name="event_id" value="(evt_\w+)"', page).group(1)
    response = staff.post(f"/bookings/{booking['id']}/undo", {"event_id": event_id})
    assert response.status_code == 302
    html = staff.text(f"/bookings/{booking['id']}")
    assert "Undone: the booking is confirmed again." in html
    steps = re.findall(r'<span class="event-what">\s*(.*?)\s*</span>', html, re.S)
    assert steps[-2:] == ["Confirmed → No-show", "Undone: No-show → back to Confirmed"]
    assert "Undo" not in re.sub(r"Undone", "", html.split('id="timeline-h"')[0])


def test_an_undo_into_a_taken_slot_is_refused_in_words_and_changes_nothing(
    desk, db, client, admin_headers, make_booking, chair
):
    booking = make_booking(resource_id=chair["id"])
    advance(client, admin_headers, booking["id"], "cancelled")
    make_booking(resource_id=chair["id"], start_time=f"{DAY}T10:30:00Z")
    staff = desk("booking:write")
    event_id = re.search(
        r'name="event_id" value="(evt_\w+)"', staff.text(f"/bookings/{booking['id']}")
    ).group(1)
    with unchanged(db):
        response = staff.post(f"/bookings/{booking['id']}/undo", {"event_id": event_id})
    assert response.status_code == 422
    assert "Cannot undo the cancellation: since then, Chair 1 has been taken" in (
        response.get_data(as_text=True)
    )


# --- services and bookings that name one ------------------------------------------------------


def test_a_service_is_added_with_a_price_typed_as_money(desk, client, admin_headers, chair):
    staff = desk("booking:write")
    response = staff.post(
        "/services",
        {
            "name": "Colour",
            "duration_minutes": "90",
            "price": "45.50",
            "currency": "eur",
            "buffer_minutes": "10",
            "resource_ids": chair["id"],
        },
    )
    assert response.status_code == 302
    (service,) = api_get(client, "/modules/booking/services", admin_headers)
    assert (service["price_minor"], service["currency"], service["resource_ids"]) == (
        4550,
        "EUR",
        [chair["id"]],
    )
    html = staff.text("/services")
    assert "€45.50" in html and "Chair 1" in html


@pytest.mark.parametrize(
    "change,field,message",
    [
        ({"price": "45.555"}, "price", ""),
        ({"price": "lots"}, "price", ""),
        ({"currency": "XYZ"}, "currency", "ISO 4217"),
        ({"name": ""}, "name", ""),
    ],
)
def test_a_refused_service_is_shown_by_its_field_and_changes_nothing(
    desk, db, change, field, message
):
    staff = desk("booking:write")
    form = {"name": "Trim", "duration_minutes": "30", "price": "25", "currency": "EUR", **change}
    with unchanged(db):
        response = staff.post("/services", form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="f-{field}-error"' in html and message in html


def test_a_service_is_edited_and_deleted(desk, client, admin_headers):
    made = client.post(
        "/modules/booking/services",
        json={"name": "Trim", "duration_minutes": 30, "price_minor": 2500, "currency": "EUR"},
        headers=admin_headers,
    ).json["data"]
    staff = desk("booking:admin")
    assert 'value="25.00"' in staff.text(f"/services/{made['id']}")
    response = staff.post(
        f"/services/{made['id']}",
        {"name": "Short trim", "duration_minutes": "20", "price": "22", "currency": "EUR"},
    )
    assert response.status_code == 302
    saved = api_get(client, f"/modules/booking/services/{made['id']}", admin_headers)
    assert (saved["name"], saved["price_minor"]) == ("Short trim", 2200)
    assert staff.post(f"/services/{made['id']}/delete").status_code == 302
    assert "No services yet." in staff.text("/services")


def test_a_booking_for_a_service_takes_its_length_and_shows_its_price(
    desk, client, admin_headers, chair
):
    trim = client.post(
        "/modules/booking/services",
        json={"name": "Trim", "duration_minutes": 30, "price_minor": 2500, "currency": "EUR"},
        headers=admin_headers,
    ).json["data"]
    staff = desk("booking:write")
    form_page = staff.text(
        f"/bookings/new?resource_id={chair['id']}&date={DAY}&service_id={trim['id']}"
    )
    assert 'value="30"' in form_page and "Trim, €25.00, 30 minutes" in form_page
    response = staff.post(
        "/bookings/new",
        {
            "resource_id": chair["id"],
            "date": DAY,
            "duration_minutes": "30",
            "service_id": trim["id"],
            "start_time": f"{DAY}T10:00:00Z",
        },
    )
    assert response.status_code == 302
    page = staff.text(response.headers["Location"])
    assert "Trim · €25.00" in page


def test_booking_outside_business_hours_asks_first(desk, db, client, admin_headers, make_resource):
    chair = make_resource(name="Chair 4", business_hours={"mon": [["09:00", "17:00"]]})
    staff = desk("booking:write")
    form = {
        "resource_id": chair["id"],
        "date": DAY,
        "duration_minutes": "60",
        "start_time": "other",
        "other_time": "17:30",
    }
    with unchanged(db):
        asked = staff.post("/bookings/new", form)
    assert asked.status_code == 200
    assert "Chair 4 is closed at Mon 7 Jan 2030, 17:30. Book it anyway?" in asked.get_data(
        as_text=True
    )
    answered = staff.post("/bookings/new", {**form, "outside_hours_ok": "1"})
    assert answered.status_code == 302


# --- the day view -----------------------------------------------------------------------------


def test_the_day_view_shows_the_day_s_figures_and_move_handles(
    desk, client, admin_headers, make_booking, chair
):
    trim = client.post(
        "/modules/booking/services",
        json={"name": "Trim", "duration_minutes": 30, "price_minor": 2500, "currency": "EUR"},
        headers=admin_headers,
    ).json["data"]
    done = make_booking(resource_id=chair["id"], service_id=trim["id"])
    advance(client, admin_headers, done["id"], "confirmed", "checked_in", "completed")
    waiting = make_booking(resource_id=chair["id"], start_time=f"{DAY}T12:00:00Z")
    html = desk("booking:write").text(f"/day?date={DAY}")
    totals = html.split('id="totals-h"')[1]
    assert re.search(r"<th scope=\"row\">Chair 1</th><td>2</td>", totals)
    assert re.search(r'data-testid="shop-total">€25.00', totals)
    assert f'data-booking-id="{waiting["id"]}"' in html
    assert f'data-booking-id="{done["id"]}"' not in html  # a completed booking stays put
    assert 'id="day-move-form"' in html
    read_only = desk("booking:read").text(f"/day?date={DAY}")
    assert "data-move-handle" not in read_only and 'id="day-move-form"' not in read_only
