"""Playwright driving Debian's Chromium against a real `booking serve`."""
