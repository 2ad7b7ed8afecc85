"""The counter's flows in Chromium, each on a 1280×800 laptop and a 390×844 phone: book from an
empty slot of tomorrow, the week views, the customer type-ahead among 10,000, phone numbers in
three spellings, a shop-wide closure, staff sign-in that survives a browser restart, and no
page wider than the screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, Playwright, expect

from tests.browser.conftest import (
    ARTIFACTS,
    LAUNCH_ARGS,
    VIEWPORTS,
    save_screenshot_on_failure,
    watch,
)
from tests.browser.counter_shop import ADA_PHONE, PIN, seed, today
from tests.live.server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.live]


def serve(path: Path) -> Iterator[LiveServer]:
    server = LiveServer(path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def counter(tmp_path) -> Iterator[LiveServer]:
    """The seeded shop (tests/browser/counter_shop.py), served."""
    seed(tmp_path / "shop.db")
    yield from serve(tmp_path / "shop.db")


@pytest.fixture
def crowded(tmp_path) -> Iterator[LiveServer]:
    """The seeded shop with 10,000 more customers."""
    seed(tmp_path / "shop.db", customers=10_000)
    yield from serve(tmp_path / "shop.db")


def sign_in(page: Page, shop: LiveServer, name: str = "Mia", *, remember: bool = False) -> None:
    page.goto(f"{shop.url}/signin")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("PIN or password").fill(PIN)
    if remember:
        page.get_by_label("Keep me signed in on this computer").first.check()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".flash")).to_contain_text(f"Signed in as {name}.")


def suggestions(page: Page):
    return page.get_by_role("listbox", name="Matching customers").get_by_role("option")


def pick_customer(page: Page, typed: str, name: str) -> None:
    page.get_by_role("combobox", name="Customer").fill(typed)
    suggestions(page).filter(has_text=name).click()
    expect(page.get_by_text(f"Chosen: {name}")).to_be_visible()


def test_book_an_empty_slot_of_tomorrow_from_the_grid(
    screen: Page, counter: LiveServer, console_problems
):
    tomorrow = today() + timedelta(days=1)
    sign_in(screen, counter)
    screen.get_by_role("link", name="Next day →").click()
    expect(screen.get_by_role("heading", level=1)).to_contain_text(
        f"{tomorrow.day} {tomorrow:%B %Y}"
    )
    screen.get_by_role("link", name="Book Chair 2 at 10:30").click()
    expect(screen.get_by_label("Resource")).to_have_value(re.compile("res_"))
    expect(screen.get_by_label("Resource").locator("option:checked")).to_have_text("Chair 2")
    expect(screen.get_by_label("Day")).to_have_value(tomorrow.isoformat())
    expect(screen.get_by_label("10:30", exact=True)).to_be_checked()
    pick_customer(screen, "lov", "Ada Lovelace")
    screen.get_by_label("Title").fill("Haircut")
    screen.get_by_role("button", name="Book", exact=True).click()
    expect(screen.get_by_role("heading", level=1)).to_contain_text("Haircut")
    # "New booking" from the day shown keeps that day.
    screen.goto(f"{counter.url}/day?date={tomorrow.isoformat()}")
    chair_2 = screen.get_by_role("region", name="Chair 2")
    expect(
        chair_2.get_by_role("link", name=re.compile("10:30–11:00 Haircut · Ada Lovelace"))
    ).to_be_visible()
    screen.get_by_role("link", name="New booking").click()
    expect(screen.get_by_label("Day")).to_have_value(tomorrow.isoformat())
    assert console_problems == []


def test_the_week_of_the_shop_and_of_one_chair(screen: Page, counter: LiveServer, console_problems):
    tomorrow = today() + timedelta(days=1)
    sign_in(screen, counter)
    screen.get_by_role("link", name="Week", exact=True).first.click()
    expect(screen.get_by_role("heading", level=1)).to_contain_text("Shop:")
    expect(screen.get_by_role("link", name=re.compile("09:00 Grace Hopper"))).to_be_visible()
    screen.get_by_role("link", name="Chair 1", exact=True).click()
    expect(screen.get_by_role("heading", level=1)).to_contain_text("Chair 1:")
    expect(
        screen.get_by_role("link", name=re.compile("09:00–09:30 Colour · Grace Hopper"))
    ).to_be_visible()
    day_name = f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B}"
    screen.get_by_role("link", name=f"Book Chair 1 on {day_name} at 15:00").click()
    expect(screen.get_by_label("Day")).to_have_value(tomorrow.isoformat())
    expect(screen.get_by_label("15:00", exact=True)).to_be_checked()
    assert console_problems == []


def test_the_type_ahead_finds_one_customer_among_10000(
    screen: Page, crowded: LiveServer, console_problems
):
    sign_in(screen, crowded)
    screen.goto(f"{crowded.url}/bookings/new")
    box = screen.get_by_role("combobox", name="Customer")
    box.fill("Ada Lov")
    expect(suggestions(screen)).to_have_count(1)
    expect(suggestions(screen)).to_contain_text("Ada Lovelace")
    box.fill("customer 0999")
    expect(suggestions(screen)).to_have_count(8)  # the first eight of ten matches
    box.fill("customer 09999")
    expect(suggestions(screen)).to_have_count(1)
    box.press("ArrowDown")
    box.press("Enter")
    expect(screen.get_by_text("Chosen: Customer 09999")).to_be_visible()
    assert console_problems == []


@pytest.mark.parametrize("typed", ["0151 2345678", "+491512345678", "0049 151 234 5678"])
def test_a_phone_number_in_any_spelling_finds_the_customer(
    screen: Page, counter: LiveServer, typed: str, console_problems
):
    sign_in(screen, counter)
    screen.goto(f"{counter.url}/bookings/new")
    pick_customer(screen, typed, "Ada Lovelace")
    screen.get_by_role("link", name="Customers").click()
    screen.get_by_label("Search").fill(typed)
    screen.get_by_role("button", name="Search").click()
    expect(screen.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(screen.get_by_role("link", name="Grace Hopper")).to_have_count(0)
    screen.get_by_role("link", name="Ada Lovelace").click()
    expect(screen.get_by_label("Phone")).to_have_value(ADA_PHONE)
    assert console_problems == []


def test_close_the_whole_shop_with_one_form(screen: Page, counter: LiveServer, console_problems):
    holiday = today() + timedelta(days=3)
    sign_in(screen, counter)
    screen.get_by_role("link", name="Blockers").click()
    screen.get_by_label("Resource").select_option(label="The whole shop (all 3 resources)")
    screen.get_by_label("Title").fill("Holiday")
    screen.get_by_label("Start date").fill(holiday.isoformat())
    screen.get_by_label("All day").check()
    screen.get_by_role("button", name="Add blocker").click()
    expect(screen.locator(".flash")).to_contain_text("Added Holiday on all 3 resources.")
    screen.goto(f"{counter.url}/day?date={holiday.isoformat()}")
    for chair in ("Chair 1", "Chair 2", "Chair 3"):
        region = screen.get_by_role("region", name=chair)
        expect(region.get_by_text("Blocked: Holiday")).to_be_visible()
        expect(region.get_by_role("link", name=re.compile("^Book Chair . at"))).to_have_count(0)
    assert console_problems == []


@pytest.mark.parametrize("device", list(VIEWPORTS))
@pytest.mark.parametrize("remember", [True, False])
def test_a_staff_sign_in_kept_on_this_computer_survives_a_browser_restart(
    playwright_session: Playwright, chromium_path: str, counter: LiveServer, tmp_path, request,
    device: str, remember: bool,
):  # fmt: skip
    profile = tmp_path / "profile"

    def launch():
        context = playwright_session.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, headless=True, args=LAUNCH_ARGS,
            viewport=VIEWPORTS[device],
        )  # fmt: skip
        context.set_default_timeout(10_000)
        return context

    browser = launch()
    tab = browser.pages[0] if browser.pages else browser.new_page()
    watch(tab, [])
    sign_in(tab, counter, remember=remember)
    browser.close()  # the browser closes at the end of the day ...

    browser = launch()  # ... and opens the next morning
    tab = browser.pages[0] if browser.pages else browser.new_page()
    try:
        tab.goto(f"{counter.url}/day")
        if remember:
            expect(tab.get_by_role("heading", level=1)).not_to_have_text("Sign in")
            expect(tab.locator(".who")).to_have_text("Mia")
        else:
            expect(tab).to_have_url(re.compile("/signin"))
    finally:
        save_screenshot_on_failure(request, tab)
        browser.close()


PAGES = (
    "/signin", "/day", "/week", "/week?resource_id={chair_1}", "/bookings/new",
    "/customers", "/customers?q=ada", "/customers/{ada}", "/resources", "/blockers", "/sync",
    "/staff", "/settings",
)  # fmt: skip


def test_no_page_is_wider_than_the_screen(screen: Page, tmp_path, device: str, console_problems):
    ids = seed(tmp_path / "shop.db")
    with LiveServer(tmp_path / "shop.db") as shop:
        width = VIEWPORTS[device]["width"]
        screen.goto(f"{shop.url}/signin")
        assert screen.evaluate("document.documentElement.scrollWidth") <= width
        sign_in(screen, shop, "Max")
        screen.goto(f"{shop.url}/week?resource_id={ids['chair_1']}")
        screen.get_by_role("link", name=re.compile("Colour · Grace Hopper")).click()
        pages = [path.format(**ids) for path in PAGES] + [screen.url.replace(shop.url, "")]
        for path in pages:
            screen.goto(f"{shop.url}{path}")
            wide = screen.evaluate("document.documentElement.scrollWidth")
            if wide > width:
                ARTIFACTS.mkdir(exist_ok=True)
                screen.screenshot(
                    path=str(ARTIFACTS / f"too-wide-{device}{path.replace('/', '_')}.png"),
                    full_page=True,
                )
            assert wide <= width, f"{path} is {wide} px wide on a {width} px screen"
    assert console_problems == []
