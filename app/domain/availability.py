"""Free time (API.md §2 availability): pure functions on half-open [start, end) intervals in ms.

A slot is offered only if `bookings.create` would accept it: it lies inside business hours,
and the slot plus the resource's buffer overlaps no active booking (plus its buffer) and no
blocker occurrence. Both paths use `overlaps`, so they cannot disagree.
"""

from __future__ import annotations

import bisect
import itertools
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from app.core import deadline
from app.core.times import to_datetime, to_millis
from app.core.vocabulary import DAY_KEYS


class Interval(NamedTuple):
    start: int
    end: int
    owner: str  # the booking or blocker id that holds it ("" for free or open time)


def overlaps(a: Interval, b: Interval) -> bool:
    """Half-open intervals overlap when each starts before the other ends; touching is fine."""
    return a.start < b.end and b.start < a.end


def _local_ms(day: date, hhmm: str, zone: ZoneInfo) -> int:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    moment = datetime.combine(day, time(0, 0), tzinfo=zone)
    if hours == 24:
        moment = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    else:
        moment = datetime.combine(day, time(hours, minutes), tzinfo=zone)
    return to_millis(moment)


def open_intervals(
    business_hours: dict[str, list[list[str]]] | None, timezone: str, start: int, end: int
) -> list[Interval]:
    """Opening hours as UTC intervals covering [start, end), touching ones merged.

    Intervals keep their real opening time (not clipped to `start`), so slots line up with
    openings. With no business hours the resource is open all day, every day, and slots line
    up with local midnight.
    """
    zone = ZoneInfo(timezone)
    first = to_datetime(start).astimezone(zone).date() - timedelta(days=1)
    last = to_datetime(end).astimezone(zone).date() + timedelta(days=1)
    spans: list[Interval] = []
    day = first
    while day <= last:
        if business_hours is None:
            pairs = [["00:00", "24:00"]]
        else:
            pairs = business_hours.get(DAY_KEYS[day.weekday()], [])
        for open_at, close_at in pairs:
            span = Interval(_local_ms(day, open_at, zone), _local_ms(day, close_at, zone), "")
            if span.end > start and span.start < end:
                spans.append(span)
        day += timedelta(days=1)
    merged: list[Interval] = []
    for span in sorted(spans):
        if merged and span.start <= merged[-1].end:
            merged[-1] = Interval(merged[-1].start, max(merged[-1].end, span.end), "")
        else:
            merged.append(span)
    return merged


def free_slots(
    *,
    window: Interval,
    duration: int,
    step: int,
    buffer: int,
    open_spans: list[Interval],
    busy: list[Interval],
) -> list[Interval]:
    """Slots of `duration` ms inside `window` and an open span, starting every `step` ms from
    the span's opening, whose [start, end + buffer) overlaps nothing in `busy`."""
    busy = sorted(busy)
    starts = [item.start for item in busy]
    # latest_end[i] is the latest end among busy[:i + 1]. The items that start before a slot's
    # held end are a prefix of `busy`; the slot overlaps one of them exactly when the latest of
    # their ends is after the slot's start. One bisect a slot, however long or many the items
    # (a scan back over "every item that might still be running" was quadratic with a 31-day
    # blocker among short ones).
    latest_end = list(itertools.accumulate((item.end for item in busy), max))
    slots: list[Interval] = []
    for span in open_spans:
        offset = max(0, -(-(window.start - span.start) // step))  # first step >= window.start
        slot_start = span.start + offset * step
        last_start = min(span.end, window.end) - duration
        while slot_start <= last_start:
            deadline.check()
            before = bisect.bisect_left(starts, slot_start + duration + buffer)
            if before == 0 or latest_end[before - 1] <= slot_start:
                slots.append(Interval(slot_start, slot_start + duration, ""))
            slot_start += step
    return slots
