"""The API's JSON for the domain's rows: instants as UTC ISO text, fields in the spec's order.

The domain hands back plain rows (instants in ms); shaping them for a client is the web
layer's job, so the domain never learns the wire format of a response.
"""

from __future__ import annotations

from typing import Any

from app.core.times import format_instant, format_optional
from app.core.vocabulary import MINUTE_MS
from app.domain import shingleai
from app.domain.availability import Interval

CUSTOMER_FIELDS = ("id", "name", "external_id", "phone", "email", "tags", "metadata")
RESOURCE_FIELDS = (
    "id",
    "name",
    "timezone",
    "default_duration_minutes",
    "buffer_minutes",
    "business_hours",
    "metadata",
)


def _stamped(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        **{name: record[name] for name in fields},
        "created_at": format_instant(record["created_at"]),
        "updated_at": format_instant(record["updated_at"]),
    }


def customer(row: dict[str, Any]) -> dict[str, Any]:
    return _stamped(row, CUSTOMER_FIELDS)


def resource(row: dict[str, Any]) -> dict[str, Any]:
    return _stamped(row, RESOURCE_FIELDS)


def booking(row: dict[str, Any], conflict_with: list[str]) -> dict[str, Any]:
    """A booking, with `conflict_with`: the active bookings sync left overlapping it."""
    return {
        "id": row["id"],
        "resource_id": row["resource_id"],
        "customer_id": row["customer_id"],
        "start_time": format_instant(row["start_time"]),
        "end_time": format_instant(row["end_time"]),
        "duration_minutes": (row["end_time"] - row["start_time"]) // MINUTE_MS,
        "title": row["title"],
        "notes": row["notes"],
        "metadata": row["metadata"],
        "status": row["status"],
        "cancel_reason": row["cancel_reason"],
        "created_at": format_instant(row["created_at"]),
        "updated_at": format_instant(row["updated_at"]),
        "conflict_with": conflict_with,
    }


def event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "booking_id": row["booking_id"],
        "type": row["type"],
        "from_status": row["from_status"],
        "to_status": row["to_status"],
        "actor": row["actor"],
        "data": row["data"],
        "occurred_at": format_instant(row["occurred_at"]),
        "node_id": row["node_id"],
        "applied": row["applied"],
        "anomaly": row["anomaly"],
    }


def interval(span: Interval) -> dict[str, str]:
    return {"start_time": format_instant(span.start), "end_time": format_instant(span.end)}


def slots(spans: list[Interval]) -> list[dict[str, str]]:
    # Slots overlap when the step is shorter than the duration, so most instants repeat.
    text: dict[int, str] = {}

    def formatted(millis: int) -> str:
        if millis not in text:
            text[millis] = format_instant(millis)
        return text[millis]

    return [{"start_time": formatted(s.start), "end_time": formatted(s.end)} for s in spans]


def blocker(row: dict[str, Any], occurrences: list[Interval] | None = None) -> dict[str, Any]:
    """A blocker; a list in a window adds the occurrences found there."""
    data = {
        "id": row["id"],
        "resource_id": row["resource_id"],
        "title": row["title"],
        "start_time": format_instant(row["start_time"]),
        "end_time": format_instant(row["end_time"]),
        "all_day": bool(row["all_day"]),
        "recurrence": row["recurrence"],
        "metadata": row["metadata"],
        "created_at": format_instant(row["created_at"]),
        "updated_at": format_instant(row["updated_at"]),
    }
    if occurrences is not None:
        data["occurrences"] = [interval(hit) for hit in occurrences]
    return data


def shingle_customer(row: dict[str, Any]) -> dict[str, Any]:
    """The ShingleAI JSON of a customer row, in the seed's field order."""
    return {
        "id": shingleai.public_id(row["id"]),
        "createdAt": format_instant(row["created_at"]),
        "updatedAt": format_instant(row["updated_at"]),
        "deletedAt": format_optional(row["deleted_at"]),
        "organizationId": row["organization_id"],
        "businessId": row["business_id"],
        "contactId": row["contact_id"],
        "type": row["type"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "notes": row["notes"],
        "status": row["status"],
        "customerSince": format_optional(row["customer_since"]),
        "data": row["metadata"],
    }
