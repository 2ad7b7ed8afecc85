"""Calendar feeds (RFC 5545) of a resource's or the whole shop's bookings and blockers.

Each is at a secret, revocable URL that a phone's calendar subscribes to; written with the
icalendar library.

- A booking is a VEVENT with a stable UID (its id), a SEQUENCE counting its applied events past
  `created` (the same on every replica), STATUS TENTATIVE (pending), CONFIRMED, or CANCELLED
  (cancelled: kept in the feed, so a calendar that showed it marks it cancelled).
- A blocker is busy time (TRANSP:OPAQUE); a repeating one is one VEVENT with its RRULE, its
  start in the resource's time zone (with the VTIMEZONE), so it repeats in local time as the
  service expands it; an all-day one has DATE values.
- The window is 30 days back to a year ahead (FEED_PAST_DAYS, FEED_FUTURE_DAYS).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from app import store
from app.core.ids import new_id
from app.core.times import parse_instant, wall_ms
from app.domain.errors import NotFound, UnknownResource
from app.domain.recurrence import build_rule
from app.store import Connection
from app.store import feeds as stored

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 366
DAY_MS = 86_400_000
PRODID = "-//booking-service//calendar feed//EN"
UID_DOMAIN = "booking-service"
STATUS = {"pending": "TENTATIVE", "cancelled": "CANCELLED"}  # the rest: CONFIRMED


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(db: Connection, resource_id: str | None, name: str | None) -> tuple[dict[str, Any], str]:
    """A new feed and its secret token (shown once: only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    now = wall_ms()
    feed = {
        "id": new_id("cal"),
        "resource_id": resource_id,
        "name": name,
        "token_hash": token_hash(token),
        "revoked_at": None,
        "created_at": now,
        "updated_at": now,
    }
    with store.transaction(db):
        if resource_id is not None:
            store.get_resource(db, resource_id, missing=UnknownResource)
        stored.insert(db, feed)
    return feed, token


def every(db: Connection) -> list[dict[str, Any]]:
    return stored.every(db)


def revoke(db: Connection, feed_id: str) -> dict[str, Any]:
    """Stop the feed's URL at once (on every node once synced); answers the feed."""
    with store.transaction(db):
        feed = stored.get(db, feed_id)
        if feed is None:
            raise NotFound(f"No calendar feed has the id {feed_id!r}.")
        if feed["revoked_at"] is None:
            now = wall_ms()
            stored.update(db, feed_id, {"revoked_at": now, "updated_at": now})
        return stored.get(db, feed_id)  # type: ignore[return-value]


def by_token(db: Connection, token: str) -> dict[str, Any] | None:
    """The live feed with this token, or None (unknown, revoked, or its resource deleted)."""
    feed = stored.by_token_hash(db, token_hash(token))
    if feed is None or feed["revoked_at"] is not None:
        return None
    return feed


def calendar(db: Connection, feed: dict[str, Any], now: int | None = None) -> bytes:
    """The feed's iCalendar text."""
    now = wall_ms() if now is None else now
    start, end = now - FEED_PAST_DAYS * DAY_MS, now + FEED_FUTURE_DAYS * DAY_MS
    resources = _resources(db, feed["resource_id"])
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    title = feed["name"] or (resources[0]["name"] if feed["resource_id"] and resources else None)
    cal.add("x-wr-calname", title or "Bookings")
    names = {resource["id"]: resource["name"] for resource in resources}
    rows = _bookings(db, feed["resource_id"], start, end)
    versions = stored.booking_versions(db, [row["id"] for row in rows])
    people = _customers(db, rows)
    for row in rows:
        if row["resource_id"] in names:
            cal.add_component(_booking_event(row, versions, people, names))
    for resource in resources:
        for blocker in store.blockers_for_resource(db, resource["id"], before=end):
            if blocker["recurrence"] or blocker["end_time"] > start:
                cal.add_component(_blocker_event(blocker, resource))
    cal.add_missing_timezones()
    return cal.to_ical()


def _resources(db: Connection, resource_id: str | None) -> list[dict[str, Any]]:
    if resource_id is not None:
        try:
            return [store.get_resource(db, resource_id)]
        except store.RowMissing:
            return []
    return store.list_resources(db, after_id=None, limit=10_000)


def _bookings(db: Connection, resource_id: str | None, start: int, end: int) -> list[dict]:
    found: list[dict[str, Any]] = []
    after = None
    while rows := store.list_bookings(
        db, after=after, limit=1000, resource_id=resource_id, start=start, end=end
    ):
        found.extend(rows)
        after = (rows[-1]["start_time"], rows[-1]["id"])
    return found


def _customers(db: Connection, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    people: dict[str, dict[str, Any]] = {}
    for customer_id in {row["customer_id"] for row in rows if row["customer_id"]}:
        try:
            people[customer_id] = store.get_customer(db, customer_id)
        except store.RowMissing:
            continue
    return people


def _utc(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def _booking_event(
    row: dict[str, Any],
    versions: dict[str, int],
    people: dict[str, dict[str, Any]],
    names: dict[str, str],
) -> Event:
    customer = people.get(row["customer_id"] or "")
    summary = " – ".join(part for part in (customer and customer["name"], row["title"]) if part)
    lines = [f"Status: {row['status']}"]
    if customer:
        lines += [
            f"{label}: {customer[key]}"
            for label, key in (("Phone", "phone"), ("Email", "email"))
            if customer.get(key)
        ]
    if row["notes"]:
        lines.append(row["notes"])
    event = Event()
    event.add("uid", f"{row['id']}@{UID_DOMAIN}")
    event.add("sequence", versions.get(row["id"], 0))
    event.add("dtstamp", _utc(row["updated_at"]))
    event.add("created", _utc(row["created_at"]))
    event.add("last-modified", _utc(row["updated_at"]))
    event.add("dtstart", _utc(row["start_time"]))
    event.add("dtend", _utc(row["end_time"]))
    event.add("summary", summary or "Booking")
    event.add("location", names.get(row["resource_id"], ""))
    event.add("description", "\n".join(lines))
    event.add("status", STATUS.get(row["status"], "CONFIRMED"))
    event.add("transp", "TRANSPARENT" if row["status"] == "cancelled" else "OPAQUE")
    return event


def _blocker_event(blocker: dict[str, Any], resource: dict[str, Any]) -> Event:
    zone = ZoneInfo(resource["timezone"])
    start = datetime.fromtimestamp(blocker["start_time"] / 1000, zone)
    end = datetime.fromtimestamp(blocker["end_time"] / 1000, zone)
    event = Event()
    event.add("uid", f"{blocker['id']}@{UID_DOMAIN}")
    event.add("dtstamp", _utc(blocker["updated_at"]))
    event.add("summary", blocker["title"] or "Closed")
    event.add("location", resource["name"])
    event.add("transp", "OPAQUE")
    event.add("categories", ["BLOCKED"])
    all_day = bool(blocker["all_day"])
    event.add("dtstart", start.date() if all_day else start)
    event.add("dtend", end.date() if all_day else end)
    if blocker["recurrence"]:
        event.add("rrule", _rrule(blocker["recurrence"], zone, all_day))
        rule = build_rule(blocker["recurrence"], start)
        if rule.after(start - timedelta(seconds=1)) != start:  # dateutil: not an occurrence
            event.add("exdate", start.date() if all_day else start)
    return event


def _rrule(recurrence: dict[str, Any], zone: ZoneInfo, all_day: bool) -> vRecur:
    if "rrule" in recurrence:
        return vRecur.from_ical(recurrence["rrule"].strip().removeprefix("RRULE:"))
    parts: dict[str, Any] = {"freq": recurrence["freq"].upper()}
    if recurrence.get("interval"):
        parts["interval"] = recurrence["interval"]
    if recurrence.get("count"):
        parts["count"] = recurrence["count"]
    if recurrence.get("until"):
        until = _utc(parse_instant(recurrence["until"]))
        # UNTIL takes DTSTART's value type: a date for all-day blockers (RFC 5545 §3.3.10).
        parts["until"] = until.astimezone(zone).date() if all_day else until
    if recurrence.get("by_weekday"):
        parts["byday"] = recurrence["by_weekday"]
    return vRecur(parts)
