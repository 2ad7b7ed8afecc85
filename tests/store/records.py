"""Records as the domain hands them to the store, with valid defaults and keyword overrides."""

from __future__ import annotations

from typing import Any

from app.core.ids import new_id


def customer(**overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id("cus"),
        "name": "Ada",
        "external_id": None,
        "phone": None,
        "email": None,
        "tags": [],
        "metadata": {},
        "created_at": 1,
        "updated_at": 1,
        **overrides,
    }


def resource(**overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id("res"),
        "name": "Chair 1",
        "timezone": "Europe/Paris",
        "default_duration_minutes": 60,
        "buffer_minutes": 0,
        "business_hours": None,
        "metadata": {},
        "created_at": 1,
        "updated_at": 1,
        **overrides,
    }


def blocker(resource_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id("blk"),
        "resource_id": resource_id,
        "title": "Closed",
        "start_time": 1_000,
        "end_time": 2_000,
        "all_day": False,
        "recurrence": None,
        "metadata": {},
        "created_at": 1,
        "updated_at": 1,
        **overrides,
    }


def booking(resource_id: str, start: int, end: int, **overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id("bk"),
        "resource_id": resource_id,
        "customer_id": None,
        "start_time": start,
        "end_time": end,
        "title": None,
        "notes": None,
        "metadata": {},
        "status": "pending",
        "cancel_reason": None,
        "created_at": 1,
        "updated_at": 1,
        "external_id": None,
        "service_id": None,
        "price_minor": None,
        "currency": None,
        "buffer_minutes": 0,
        **overrides,
    }


def event(booking_id: str, kind: str = "created", **overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id("evt"),
        "booking_id": booking_id,
        "type": kind,
        "from_status": None,
        "to_status": "pending",
        "actor": "test",
        "data": {},
        "occurred_at": 1,
        "applied": True,
        "anomaly": None,
        **overrides,
    }


def api_key(**overrides: Any) -> dict[str, Any]:
    return {
        "id": new_id("key"),
        "name": "k",
        "secret_hash": "hash",
        "scopes": ["booking:read"],
        "rate_limit": "600/minute",
        "tokens_remaining": None,
        "created_at": 1,
        **overrides,
    }
