"""The day's figures (API.md §8): bookings by status and the completed total, per resource and shop.

Per resource and for the whole shop: how many bookings of each status start that day, and what
the completed ones add up to.

A resource's day runs from local midnight to local midnight in its own time zone (23 or 25
hours when the clocks change). Totals are per currency, in minor units; a completed booking
without a price (booked without a service) is counted apart, so a total never hides it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app import store
from app.core.vocabulary import STATUSES
from app.domain.errors import UnknownResource
from app.store import Connection
from app.store import services as service_store

Summary = dict[str, Any]


def day_bounds(day: date, timezone: str) -> tuple[int, int]:
    """[local midnight, next local midnight) of `day` in `timezone`, in ms."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _figures(rows: list[dict[str, Any]]) -> Summary:
    counts = Counter(row["status"] for row in rows)
    totals: Counter[str] = Counter()
    unpriced = 0
    for row in rows:
        if row["status"] != "completed":
            continue
        if row["price_minor"] is None or not row["currency"]:
            unpriced += 1
        else:
            totals[row["currency"]] += row["price_minor"]
    return {
        "bookings": len(rows),
        "counts": {status: counts.get(status, 0) for status in STATUSES},
        "completed_totals": [
            {"currency": currency, "amount_minor": amount}
            for currency, amount in sorted(totals.items())
        ],
        "completed_without_price": unpriced,
    }


def all_resources(db: Connection) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        after = found[-1]["id"] if found else None
        page = store.list_resources(db, after_id=after, limit=100)
        found += page
        if len(page) < 100:
            return found


def summarize(db: Connection, day: date, resource_id: str | None = None) -> Summary:
    """The day's figures per resource (each in its own zone) and for the shop.

    Raises UnknownResource for an unknown `resource_id`.
    """
    if resource_id is not None:
        resources = [store.get_resource(db, resource_id, missing=UnknownResource)]
    else:
        resources = all_resources(db)
    every_row: list[dict[str, Any]] = []
    per_resource = []
    for resource in resources:
        start, end = day_bounds(day, resource["timezone"])
        rows = service_store.day_bookings(db, resource["id"], start, end)
        every_row += rows
        per_resource.append(
            {
                "resource_id": resource["id"],
                "name": resource["name"],
                "timezone": resource["timezone"],
                "from": start,
                "to": end,
                **_figures(rows),
            }
        )
    return {"date": day.isoformat(), "resources": per_resource, "shop": _figures(every_row)}
