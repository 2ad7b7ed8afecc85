"""What `GET /sync/status` and `booking status` show."""

from __future__ import annotations

from typing import Any

from app import store
from app.core.times import format_optional
from app.store import Connection, changelog
from sync import identity, service


def describe(db: Connection, hub_url: str | None) -> dict[str, Any]:
    changelog.forget_identity(db)  # a sync in another process may have forked this database
    state = store.sync_state(db)
    acked = int(state.get("acked_through") or 0)

    def when(key: str) -> str | None:
        value = state.get(key)
        return format_optional(int(value)) if value else None

    return {
        "hub_url": hub_url,
        "node_id": store.node_id(db),
        "pending": changelog.count_own_after(db, acked),
        "acked_through": acked,
        "last_success": when("last_success"),
        "last_attempt": when("last_attempt"),
        "last_error": state.get("last_error"),
        "next_attempt": when("next_attempt"),
        "cursor": state.get("pull_cursor"),
        "hub_epoch": state.get("hub_epoch"),
        "anomalies": len(service.anomalies(db)),
        "identity": identity.describe(db),
    }
