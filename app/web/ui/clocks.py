"""Times of day as the shop writes them (24-hour 14:30 or 12-hour 2:30 PM), and back.

Pages show every time in the shop's clock, and their time fields are text fields in that clock
too: a browser's own time field follows the computer's language, not the shop, and showed
09:00 AM beside 24-hour times. Reading is lenient either way: 9, 930, 9:30, 09.30, 21:30,
9:30pm and 9 pm are all understood.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time

_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?:[:.h]?(?P<minute>\d{2}))?\s*(?:(?P<half>[ap])\.?\s*m?\.?)?", re.I
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def format_clock(moment: datetime | time, hour12: bool) -> str:
    """14:30, or 2:30 PM on a 12-hour clock."""
    if hour12:
        half = "AM" if moment.hour < 12 else "PM"
        return f"{moment.hour % 12 or 12}:{moment.minute:02d} {half}"
    return f"{moment.hour:02d}:{moment.minute:02d}"


def parse_clock(text: str | None) -> time | None:
    """The time of day typed, in either clock; None when it cannot be read."""
    found = _CLOCK.fullmatch((text or "").strip())
    if not found:
        return None
    hour, minute = int(found["hour"]), int(found["minute"] or 0)
    if found["half"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found["half"].lower() == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def clock_hint(hour12: bool) -> str:
    return "Such as 2:30 PM." if hour12 else "Such as 14:30."


def parse_date(text: str | None) -> date | None:
    """A date typed as 2030-01-07 (the one spelling every page shows); None otherwise."""
    text = (text or "").strip()
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
