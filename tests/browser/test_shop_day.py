"""A shop day in real Chromium, the way the person at the counter does it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.live.server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]

DAY = "2030-01-07"  # a Monday
NEXT_WEEK = "2030-01-14"


def sign_in(page: Page, shop: LiveServer) -> None:
    page.goto(shop.url)
    expect(page).to_have_url(re.compile(r"/signin"))
    page.get_by_label("API key").fill(shop.admin_key or "")
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in")


def add_resource(page: Page, shop: LiveServer, name: str) -> None:
    page.goto(f"{shop.url}/resources")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Usual length in minutes").fill("30")
    page.get_by_role("button", name="Add resource").click()
    expect(page.get_by_role("status")).to_contain_text(f"Added {name}.")


def test_a_shop_day_from_sign_in_to_completed_booking(
    page: Page, shop: LiveServer, console_problems: list[str]
):
    sign_in(page, shop)
    expect(page.get_by_text("No resources yet.")).to_be_visible()

    add_resource(page, shop, "Chair 1")
    add_resource(page, shop, "Chair 2")
    expect(page.get_by_role("cell", name="Chair 2", exact=True)).to_be_visible()

    page.get_by_role("link", name="Customers").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Phone").fill("+49 30 1234567")
    page.get_by_label("Tags", exact=True).fill("regular")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()

    # Book a free slot: the slots are the availability endpoint's, in the resource's time.
    page.get_by_role("link", name="New booking").click()
    page.get_by_label("Resource").select_option(label="Chair 1")
    page.get_by_label("Day").fill(DAY)
    page.get_by_role("button", name="Find free slots").click()
    page.get_by_label("10:00", exact=True).check()
    page.get_by_role("combobox", name="Customer").fill("lov")
    page.get_by_role("option", name=re.compile("Ada Lovelace")).click()
    page.get_by_label("Title").fill("Haircut")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Haircut")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pending")
    booking_url = page.url

    # The taken slot, for a new customer typed inline: refused, shown by the field, and
    # neither the booking nor the customer is made.
    page.goto(f"{shop.url}/bookings/new?date={DAY}")
    expect(page.get_by_label("10:00", exact=True)).to_have_count(0)  # not offered any more
    page.get_by_label("Another start time").fill("10:15")
    page.get_by_label("New customer's name").fill("Grace Hopper")
    page.get_by_label("Title").fill("Colour")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Chair 1 is not free")
    expect(page.locator("#f-start-time-error")).to_contain_text("Overlaps bk_")
    expect(page.get_by_label("New customer's name")).to_have_value("Grace Hopper")
    page.goto(f"{shop.url}/customers?q=Grace")
    expect(page.get_by_text("No customers match.")).to_be_visible()

    # A second booking, for a new customer made inline, on the other chair.
    page.goto(f"{shop.url}/bookings/new?date={DAY}")
    page.get_by_label("Resource").select_option(label="Chair 2")
    page.get_by_role("button", name="Find free slots").click()
    page.get_by_label("11:30", exact=True).check()
    page.get_by_label("New customer's name").fill("Grace Hopper")
    page.get_by_label("Title").fill("Colour")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()

    # Grace calls off: cancelling asks first (a confirm dialog) and keeps the reason.
    page.get_by_label("Reason for cancelling").fill("Called to say she is ill")
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancelled")
    expect(page.locator(".timeline")).to_contain_text(
        "Pending → Cancelled: Called to say she is ill"
    )

    # Through the day: only the valid next steps are offered.
    page.goto(booking_url)
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirmed")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Checked in")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Completed")
    timeline = page.locator(".timeline li")
    expect(timeline).to_have_count(4)
    expect(timeline.nth(0)).to_contain_text("Booked (pending)")
    expect(timeline.nth(1)).to_contain_text("Pending → Confirmed")
    expect(timeline.nth(2)).to_contain_text("Confirmed → Checked in")
    expect(timeline.nth(3)).to_contain_text("Checked in → Completed")
    expect(page.get_by_text("does not change any more")).to_be_visible()

    # A weekly lunch break shows up on the same weekday next week.
    page.get_by_role("link", name="Blockers").click()
    page.get_by_label("Resource").select_option(label="Chair 1")
    page.get_by_label("Title").fill("Lunch break")
    page.get_by_label("Start date").fill(DAY)
    page.get_by_label("Start time").fill("12:30")
    page.get_by_label("End time").fill("13:30")
    page.get_by_label("How often").select_option(label="Every week")
    page.get_by_role("button", name="Add blocker").click()
    expect(page.get_by_role("cell", name="Lunch break", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="Every week")).to_be_visible()

    page.get_by_role("link", name="Day", exact=True).click()
    page.get_by_label("Date").fill(NEXT_WEEK)
    page.get_by_role("button", name="Show").click()
    chair_1 = page.get_by_role("region", name="Chair 1")
    expect(chair_1.get_by_text("Blocked: Lunch break")).to_be_visible()
    expect(chair_1.get_by_text("12:30–13:30")).to_be_visible()
    page.get_by_role("link", name="← Previous day").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sunday 13 January 2030")

    # The day of the bookings, coloured by status and labelled in words.
    page.goto(f"{shop.url}/day?date={DAY}")
    done = page.get_by_role("link", name=re.compile("10:00–10:30 Haircut · Ada Lovelace"))
    expect(done).to_contain_text("Completed")
    expect(done).to_have_class(re.compile("status-completed"))
    expect(page.get_by_role("link", name=re.compile("11:30–12:00 Colour"))).to_contain_text(
        "Cancelled"
    )
    expect(
        page.get_by_role("region", name="Chair 1").get_by_text("Blocked: Lunch break")
    ).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "day-view.png"), full_page=True)

    # A 768-px tablet: the same day fits the width without sideways scrolling of the page.
    page.set_viewport_size({"width": 768, "height": 1024})
    page.reload()
    expect(done).to_be_visible()
    expect(page.get_by_role("link", name="Customers")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=str(ARTIFACTS / "day-view-768.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The sync page: this node has no hub, and says so when asked to sync.
    page.get_by_role("link", name="Sync").click()
    expect(page.get_by_text("No hub set: this laptop works alone")).to_be_visible()
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_role("alert")).to_contain_text("This node has no hub configured")
    assert console_problems == []


def test_keyboard_users_skip_to_content_and_see_focus(page: Page, shop: LiveServer):
    sign_in(page, shop)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))


def test_a_wrong_key_is_refused_next_to_the_field(page: Page, shop: LiveServer):
    page.goto(f"{shop.url}/customers")
    expect(page).to_have_url(re.compile(r"/signin\?next=/customers"))
    page.get_by_label("API key").fill("sk_not_a_key")
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.locator("#f-api-key-error")).to_contain_text("That key is not valid")
    page.get_by_label("API key").fill(shop.admin_key or "")
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
