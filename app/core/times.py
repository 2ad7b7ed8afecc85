"""Instants: the seed's exact ISO 8601 pattern in, integer milliseconds stored, UTC `Z` text out.

Storing milliseconds makes range queries index-friendly and keeps output in one canonical form:
`2030-01-07T10:00:00Z`, or `2030-01-07T10:00:00.250Z` when there is a fraction. Input fractions
finer than a millisecond are truncated to the millisecond.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime, timedelta

from app.core.vocabulary import SECOND_MS

# Copied verbatim from the seeds (saasignal-booking-*.txt): UTC only, calendar-valid, leap years.
INSTANT_PATTERN = (
    r"^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|"
    r"\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|"
    r"(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z))$"
)
_INSTANT = re.compile(INSTANT_PATTERN)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Accepted instants lie in [1900, 9000): far from datetime's year 1 and 9999 limits, so adding a
# booking's length or a blocker's occurrences never leaves what Python can represent. MAX_MS
# stands for "never" (a blocker repeating without end).
MAX_MS = 221_845_392_000_000  # 9000-01-01T00:00:00Z
_GMTIME_EVERYWHERE_S = 32_503_680_000  # 3000-01-01T00:00:00Z, Windows' gmtime limit


def to_datetime(millis: int) -> datetime:
    """The aware UTC datetime of `millis` (epoch arithmetic: works before 1970 on every OS)."""
    return EPOCH + timedelta(milliseconds=millis)


def to_millis(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime, the inverse of `to_datetime`."""
    return int(moment.timestamp() * SECOND_MS)


def in_range(text: str) -> bool:
    """True when a pattern-valid instant lies in [1900, 9000)."""
    year = int(text[:4])
    return 1900 <= year < 9000


def is_instant(text: str) -> bool:
    # fullmatch: the pattern's `$` would also accept a trailing newline.
    return bool(_INSTANT.fullmatch(text))


def parse_instant(text: str) -> int:
    """Milliseconds since the epoch for a string matching INSTANT_PATTERN (caller validated)."""
    date_part, time_part = text[:-1].split("T")
    clock, _, fraction = time_part.partition(".")
    if clock.count(":") == 1:
        clock += ":00"
    moment = datetime.fromisoformat(f"{date_part}T{clock}+00:00")
    millis = int((fraction + "000")[:3]) if fraction else 0
    return int(moment.timestamp()) * SECOND_MS + millis


@functools.lru_cache(maxsize=1024)
def format_instant(millis: int) -> str:
    """`millis` as the API writes instants. A create formats about ten, mostly the same three
    (its start, end and now), and a list page formats six per booking: hence the cache, and
    gmtime, at half the cost of datetime arithmetic."""
    seconds, rest = divmod(millis, SECOND_MS)
    if 0 <= seconds < _GMTIME_EVERYWHERE_S:
        year, month, day, hour, minute, second = time.gmtime(seconds)[:6]
        base = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    else:  # before 1970 or from 3000: where Windows' gmtime refuses, epoch arithmetic works
        base = (EPOCH + timedelta(seconds=seconds)).isoformat()[:19]
    return f"{base}.{rest:03d}Z" if rest else f"{base}Z"


def format_optional(millis: int | None) -> str | None:
    return None if millis is None else format_instant(millis)


def wall_ms() -> int:
    """The wall clock in milliseconds; used for created_at stamps, never for event order."""
    return time.time_ns() // 1_000_000
