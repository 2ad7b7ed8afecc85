"""Browser fixtures: Playwright drives Debian's Chromium against a real `booking serve`.

The browser is the system's /usr/bin/chromium (installed by apt-get, see .ci/run), never one
that Playwright downloads. When a test fails, its page is saved as a screenshot in
test-artifacts/ (git-ignored) before the browser closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.live.server import LiveServer

CHROMIUM = "/usr/bin/chromium"
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), "
        "as .ci/run does."
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
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


@pytest.fixture
def page(
    browser: Browser, request: pytest.FixtureRequest, console_problems: list[str]
) -> Iterator[Page]:
    """A fresh browser context at 1280×800 (a counter laptop); a screenshot if the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())  # "Cancel this booking?" and the like
    tab.on("pageerror", lambda error: console_problems.append(str(error)))

    def on_console(message: ConsoleMessage) -> None:
        # A refused form is a 422 page, which Chromium also logs; that one is expected.
        if message.type == "error" and "status of 4" not in message.text:
            console_problems.append(message.text)

    tab.on("console", on_console)
    yield tab
    if request.node.stash.get(FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
