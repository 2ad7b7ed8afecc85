"""Browser fixtures: Playwright drives Chromium against a real `booking serve`.

The browser is the one tests/tools/browser.py finds: the system's Chromium (Debian's
/usr/bin/chromium), or one Playwright or the package manager installed; `make test` installs
one first when the machine has none. Each flow runs at 1280×800 (a counter laptop) and 390×844
(a phone). When a test fails, its page is saved as a screenshot in test-artifacts/
(git-ignored) before the browser closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.live.server import LiveServer
from tests.tools.browser import find_browser

LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root in a container, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",  # offline-first: the browser itself calls no one either
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"laptop": LAPTOP, "phone": PHONE}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = find_browser()
    assert found, (
        "No Chromium for the browser tests: run `make test` (it installs one), or "
        "`.venv/bin/python -m tests.tools.browser`."
    )
    return found


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright, chromium_path: str) -> Iterator[Browser]:
    chromium = playwright_session.chromium.launch(
        executable_path=chromium_path, headless=True, args=LAUNCH_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def shop(tmp_path) -> Iterator[LiveServer]:
    """`booking serve` on a fresh database; its printed admin key is `shop.admin_key`."""
    server = LiveServer(tmp_path / "shop.db")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def console_problems() -> list[str]:
    """Script errors and console errors (a blocked asset, a CSP violation) the page reported."""
    return []


def watch(tab: Page, console_problems: list[str]) -> None:
    """Accept confirm dialogs, and collect script and console errors."""
    tab.on("dialog", lambda dialog: dialog.accept())  # "Cancel this booking?" and the like
    tab.on("pageerror", lambda error: console_problems.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        # A refused form is a 4xx page, which Chromium also logs; that one is expected.
        if message.type == "error" and "status of 4" not in message.text:
            console_problems.append(message.text)

    tab.on("console", on_console)


def save_screenshot_on_failure(request: pytest.FixtureRequest, tab: Page) -> None:
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


@pytest.fixture(params=list(VIEWPORTS))
def device(request: pytest.FixtureRequest) -> str:
    """Each flow on a counter laptop and on a phone."""
    return request.param


@pytest.fixture
def screen(
    browser: Browser, device: str, request: pytest.FixtureRequest, console_problems: list[str]
) -> Iterator[Page]:
    """A fresh browser context at the `device`'s size; a screenshot if the test fails."""
    context = browser.new_context(viewport=VIEWPORTS[device])
    context.set_default_timeout(10_000)
    tab = context.new_page()
    watch(tab, console_problems)
    yield tab
    save_screenshot_on_failure(request, tab)
    context.close()


@pytest.fixture
def page(
    browser: Browser, request: pytest.FixtureRequest, console_problems: list[str]
) -> Iterator[Page]:
    """A fresh browser context at 1280×800 (a counter laptop); a screenshot if the test fails."""
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    watch(tab, console_problems)
    yield tab
    save_screenshot_on_failure(request, tab)
    context.close()
