"""Find a Chromium for the browser tests, or install one: `make test` runs this first.

In order: BOOKING_TEST_CHROMIUM, a system Chromium or Chrome on the PATH (Debian's
/usr/bin/chromium among them), the one Playwright installed before; then Playwright's own
download (`playwright install chromium`) where the network allows it; then the system's package
manager (apt-get, dnf, zypper, pacman or brew; as root, or with sudo when it needs no password).
So `make run` and `make test` stay the only two commands a fresh machine needs.

    python -m tests.tools.browser      # prints the browser's path, installing one if needed
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

ENV = "BOOKING_TEST_CHROMIUM"
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAC_APPS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)
# (manager, command): the first manager on the PATH installs the browser.
PACKAGE_MANAGERS = (
    ("apt-get", ["apt-get", "install", "-y", "-qq", "chromium"]),
    ("dnf", ["dnf", "install", "-y", "chromium"]),
    ("zypper", ["zypper", "--non-interactive", "install", "chromium"]),
    ("pacman", ["pacman", "-S", "--noconfirm", "chromium"]),
    ("brew", ["brew", "install", "--cask", "chromium"]),
)
INSTALL_TIMEOUT_S = 900

Runner = Callable[[Sequence[str]], bool]


def _run(command: Sequence[str]) -> bool:
    """Run an install step, its output shown; True when it succeeded."""
    print("+", " ".join(command), file=sys.stderr)
    try:
        return subprocess.run(list(command), timeout=INSTALL_TIMEOUT_S, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"  did not work: {error}", file=sys.stderr)
        return False


def playwright_chromium() -> str | None:
    """The Chromium Playwright downloaded earlier, if it is there."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - no driver, no browser: simply not found
        return None
    return path if path and Path(path).exists() else None


def find_browser(
    env: dict[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    bundled: Callable[[], str | None] = playwright_chromium,
) -> str | None:
    """A Chromium already on this machine, or None."""
    env = os.environ if env is None else env
    chosen = env.get(ENV)
    if chosen and Path(chosen).exists():
        return chosen
    for name in SYSTEM_NAMES:
        found = which(name)
        if found:
            return found
    for app in MAC_APPS:
        if Path(app).exists():
            return app
    return bundled()


def _as_admin(command: list[str], which: Callable[[str], str | None]) -> list[str] | None:
    """The command run as root: directly when we are root, through password-less sudo, else
    None. Homebrew refuses root, so it runs as the user."""
    if command[0] == "brew" or (hasattr(os, "geteuid") and os.geteuid() == 0):
        return command
    if which("sudo") and subprocess.run(["sudo", "-n", "true"], check=False).returncode == 0:
        return ["sudo", "-n", *command]
    return None


def ensure_browser(
    find: Callable[[], str | None] = find_browser,
    run: Runner = _run,
    which: Callable[[str], str | None] = shutil.which,
) -> str:
    """A Chromium path, installing one when none is found. Raises SystemExit with what to do
    when no way worked."""
    found = find()
    if found:
        return found
    if run([sys.executable, "-m", "playwright", "install", "chromium"]):
        found = find()
        if found:
            return found
    for manager, command in PACKAGE_MANAGERS:
        if not which(manager):
            continue
        admin = _as_admin(command, which)
        if admin is None:
            continue
        if manager == "apt-get":
            run([*admin[: len(admin) - len(command)], "apt-get", "update", "-qq"])
        if run(admin):
            found = find()
            if found:
                return found
    raise SystemExit(
        "No Chromium for the browser tests, and none could be installed. Install Chromium or "
        f"Google Chrome, or set {ENV} to a Chromium's path, then run make test again."
    )


if __name__ == "__main__":
    print(ensure_browser())
