"""Small helpers shared by the outbound tests."""

from __future__ import annotations

from app.core.times import format_instant, wall_ms

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
MESSAGES = "/modules/booking/messages"
SETTINGS = "/modules/booking/messaging"
BOOKINGS = "/modules/booking/bookings"


def at_minute(millis: int) -> int:
    return millis - millis % MINUTE


def days_ahead(days: float) -> int:
    """A whole minute about `days` from now, in ms."""
    return at_minute(wall_ms() + int(days * DAY))


def iso(millis: int) -> str:
    return format_instant(millis)


def messages(client, headers, **query) -> list[dict]:
    response = client.get(MESSAGES, query_string={"limit": 100, **query}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def book(client, headers, resource_id, start_ms, customer_id=None, minutes=60) -> dict:
    body = {"resource_id": resource_id, "start_time": iso(start_ms), "duration_minutes": minutes}
    if customer_id:
        body["customer_id"] = customer_id
    response = client.post(BOOKINGS, json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def cancel(client, headers, booking_id) -> dict:
    response = client.post(
        f"{BOOKINGS}/{booking_id}/transition",
        json={"status": "cancelled", "cancel_reason": "customer called"},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    return response.json["data"]
