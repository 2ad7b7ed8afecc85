"""Moves, undos, services and the day's total in real Chromium, at the counter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_shop_day import sign_in
from tests.live.server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]

DAY = "2030-01-07"  # a Monday
PAST_DAY = "2020-01-06"  # a Monday that has passed: its bookings have started
BOOKINGS = "/modules/booking/bookings"


def api(shop: LiveServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = shop.request(method, path, json=body, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def chairs(shop: LiveServer) -> list[dict[str, Any]]:
    return [api(shop, "POST", "/modules/booking/resources", {"name": f"Chair {n}"}) for n in (1, 2)]


def booked(shop: LiveServer, chair: dict, start: str, **extra: Any) -> dict[str, Any]:
    body = {"resource_id": chair["id"], "start_time": start, "duration_minutes": 60, **extra}
    return api(shop, "POST", BOOKINGS, body)


def moved_to(shop: LiveServer, booking: dict) -> tuple[str, str]:
    data = api(shop, "GET", f"{BOOKINGS}/{booking['id']}")
    return data["resource_id"], data["start_time"]


def test_a_booking_is_moved_by_dragging_it_to_another_time_and_chair(
    page: Page, shop: LiveServer, console_problems: list[str]
):
    one, two = chairs(shop)
    booking = booked(shop, one, f"{DAY}T10:00:00Z", title="Trim")
    sign_in(page, shop)
    page.goto(f"{shop.url}/day?date={DAY}")
    handle = page.get_by_role("link", name="Move 10:00 Trim")
    target = page.get_by_role("region", name="Chair 2").locator(".column-body")
    start = handle.bounding_box()
    column = target.bounding_box()
    assert start and column
    ppm = column["height"] / (18 * 60 - 8 * 60)  # the grid shows 08:00-18:00
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    # 90 minutes later, over Chair 2's column, in a few steps as a hand would.
    for step in range(1, 6):
        page.mouse.move(
            start["x"] + (column["x"] + 40 - start["x"]) * step / 5,
            start["y"] + start["height"] / 2 + 90 * ppm * step / 5,
        )
    expect(page.locator("li.carried .when")).to_have_text("11:30–12:30")
    page.mouse.up()
    expect(page.get_by_role("status").first).to_contain_text(
        "Moved to Mon 7 Jan 2030, 11:30 on Chair 2."
    )
    assert moved_to(shop, booking) == (two["id"], f"{DAY}T11:30:00Z")
    chair_2 = page.get_by_role("region", name="Chair 2")
    expect(chair_2.get_by_role("link", name=re.compile("11:30–12:30 Trim"))).to_be_visible()
    assert console_problems == []


def test_a_booking_is_moved_with_the_keyboard(page: Page, shop: LiveServer):
    one, two = chairs(shop)
    booking = booked(shop, one, f"{DAY}T10:00:00Z", title="Trim")
    sign_in(page, shop)
    page.goto(f"{shop.url}/day?date={DAY}")
    handle = page.get_by_role("link", name="Move 10:00 Trim")
    handle.focus()
    page.keyboard.press("Space")
    status = page.locator("#day-move-status")
    expect(status).to_contain_text("Picked up Trim, 10:00 to 11:00 on Chair 1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    expect(status).to_have_text("10:30 to 11:30 on Chair 2")
    page.keyboard.press("Escape")  # put back first: nothing moves
    expect(status).to_have_text("Put back where it was.")
    assert moved_to(shop, booking) == (one["id"], f"{DAY}T10:00:00Z")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        "Moved to Mon 7 Jan 2030, 09:45 on Chair 2."
    )
    assert moved_to(shop, booking) == (two["id"], f"{DAY}T09:45:00Z")


def test_a_drag_into_a_taken_slot_says_what_is_in_the_way(page: Page, shop: LiveServer):
    one, _ = chairs(shop)
    customer = api(shop, "POST", "/modules/booking/customers", {"name": "Ada Lovelace"})
    booked(shop, one, f"{DAY}T12:00:00Z", customer_id=customer["id"])
    booking = booked(shop, one, f"{DAY}T10:00:00Z", title="Trim")
    sign_in(page, shop)
    page.goto(f"{shop.url}/day?date={DAY}")
    page.get_by_role("link", name="Move 10:00 Trim").focus()
    page.keyboard.press("Space")
    for _ in range(8):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Chair 1 is not free")
    expect(page.get_by_role("alert")).to_contain_text("for Ada Lovelace")
    assert moved_to(shop, booking) == (one["id"], f"{DAY}T10:00:00Z")


def test_a_mistaken_no_show_is_undone(page: Page, shop: LiveServer):
    one, _ = chairs(shop)
    booking = booked(shop, one, f"{PAST_DAY}T10:00:00Z", title="Trim")
    sign_in(page, shop)
    page.goto(f"{shop.url}/bookings/{booking['id']}")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Mark no-show").click()  # its dialog is accepted
    expect(page.get_by_role("heading", level=1)).to_contain_text("No-show")
    page.get_by_role("button", name="Undo no-show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirmed")
    timeline = page.locator(".timeline li")
    expect(timeline.nth(2)).to_contain_text("Confirmed → No-show")
    expect(timeline.nth(3)).to_contain_text("Undone: No-show → back to Confirmed")
    expect(page.get_by_role("button", name="Check in")).to_be_visible()


def test_a_booking_with_a_service_and_the_day_s_total(page: Page, shop: LiveServer):
    chairs(shop)
    sign_in(page, shop)
    page.get_by_role("link", name="Services").click()
    page.get_by_label("Name").fill("Colour")
    page.get_by_label("Length in minutes").fill("90")
    page.get_by_label("Price").fill("45.50")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_role("button", name="Add service").click()
    expect(page.get_by_role("status")).to_contain_text("Added Colour.")
    expect(page.get_by_role("cell", name="€45.50")).to_be_visible()

    page.get_by_role("link", name="New booking").click()
    page.get_by_label("Resource").select_option(label="Chair 1")
    page.get_by_label("Service").select_option(label="Colour · 90 min · €45.50")
    expect(page.get_by_label("Length in minutes")).to_have_value("90")  # the service's length
    page.get_by_label("Day").fill(PAST_DAY)
    page.get_by_role("button", name="Find free slots").click()
    page.get_by_label("Another start time").fill("10:00")
    page.get_by_label("Title").fill("Colour for Ada")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_text("Colour · €45.50")).to_be_visible()
    expect(page.get_by_text("10:00–11:30")).to_be_visible()
    for button in ("Confirm", "Check in", "Complete"):
        page.get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Completed")

    page.goto(f"{shop.url}/day?date={PAST_DAY}")
    figures = page.get_by_role("region", name="The day's figures")
    expect(figures.get_by_role("row", name=re.compile("^Chair 1"))).to_contain_text("€45.50")
    expect(figures.get_by_test_id("shop-total")).to_have_text("€45.50")
