"""Webhook subscriptions: an integrator's URL, the events it hears, its signing secret.

The secret signs each delivery (app.outbound.channels.signature). Subscriptions are synced
records, so the sending node holds every one and its secret whichever node made it.
"""

from __future__ import annotations

import secrets
from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.domain import Precondition
from app.domain import check as _check
from app.domain.errors import NotFound
from app.store import Connection
from app.store import webhooks as stored

Subscription = dict[str, Any]


def create(db: Connection, url: str, events: list[str], description: str | None) -> Subscription:
    """A new, enabled subscription with a fresh secret (shown to its maker once)."""
    now = wall_ms()
    subscription = {
        "id": new_id("whk"),
        "url": url,
        "events": sorted(set(events)),
        "secret": "whsec_" + secrets.token_urlsafe(32),
        "description": description,
        "enabled": True,
        "disabled_reason": None,
        "disabled_at": None,
        "created_at": now,
        "updated_at": now,
    }
    with store.transaction(db):
        stored.insert(db, subscription)
    return subscription


def get(db: Connection, subscription_id: str) -> Subscription:
    found = stored.get(db, subscription_id)
    if found is None:
        raise NotFound(f"No webhook subscription has the id {subscription_id!r}.")
    return found


def every(db: Connection) -> list[Subscription]:
    return stored.every(db)


def update(
    db: Connection, subscription_id: str, sent: dict[str, Any], *, precondition: Precondition = None
) -> Subscription:
    """Change url, events, description or enabled. Enabling clears the reason it was disabled;
    its waiting deliveries then go out, in order."""
    if "events" in sent:
        sent = {**sent, "events": sorted(set(sent["events"]))}
    with store.transaction(db):
        _check(precondition)
        current = get(db, subscription_id)
        changes = {name: value for name, value in sent.items() if current[name] != value}
        if changes.get("enabled") is True:
            changes.update(disabled_reason=None, disabled_at=None)
        elif changes.get("enabled") is False:
            changes.update(disabled_reason="Disabled by hand.", disabled_at=wall_ms())
        if changes:
            changes["updated_at"] = max(wall_ms(), current["updated_at"])
            stored.update(db, subscription_id, changes)
        return get(db, subscription_id)


def delete(
    db: Connection, subscription_id: str, *, precondition: Precondition = None
) -> Subscription:
    """Remove it for good; its waiting deliveries are closed as skipped when due."""
    with store.transaction(db):
        _check(precondition)
        subscription = get(db, subscription_id)
        stored.delete(db, subscription_id)
    return subscription
