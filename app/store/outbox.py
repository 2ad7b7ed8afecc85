"""The outbox: messages to customers and deliveries to webhooks, as synced rows.

A message is decided where the change that causes it is made, in that change's transaction
(app.domain.messages), and travels to every node as a `message` change. Its decision fields
(what, to whom, for which booking time) never change. Its outcome merges by rank, so every
replica ends with the same outcome whatever order the changes arrive in, and a message sent
anywhere stays sent:

    pending (0) < superseded, skipped (1) < failed (2) < sent (3); a tie goes to the later stamp.

`next_attempt_at` and `lease_until` are the sending node's own bookkeeping: they are never in a
change, so a retry schedule or a lease does not travel. Functions take the connection first;
writes run inside the caller's store.transaction().
"""

from __future__ import annotations

from typing import Any

from app.core import json_codec
from app.store import changelog
from app.store.connection import Connection

STATES = ("pending", "superseded", "skipped", "failed", "sent")
RANK = {"pending": 0, "superseded": 1, "skipped": 1, "failed": 2, "sent": 3}
DECISION_COLUMNS = (
    "id", "kind", "channel", "booking_id", "customer_id", "subscription_id", "basis", "payload",
    "ordering_key", "order_hlc", "due_at", "decided_by", "created_at",
)  # fmt: skip
OUTCOME_COLUMNS = (
    "state",
    "state_reason",
    "attempts",
    "last_error",
    "recipient",
    "sent_at",
    "sent_by",
)
SYNCED_COLUMNS = DECISION_COLUMNS + OUTCOME_COLUMNS
JSON_COLUMNS = ("basis", "payload")

Message = dict[str, Any]


def _require_transaction(db: Connection) -> None:
    assert db.in_transaction, "outbox writes must run inside store.transaction()"


def _rows(db: Connection, sql: str, params: list[Any] | dict[str, Any]) -> list[Message]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    found = []
    for row in cursor.fetchall():
        record = dict(zip(names, row, strict=True))
        for column in JSON_COLUMNS:
            record[column] = json_codec.loads(record[column])
        found.append(record)
    return found


def record(db: Connection, message: Message) -> Message:
    """Store a local decision or outcome of a message, and its change (the whole synced row).

    The same merge as a remote change (apply_remote), so a local write never beats a higher
    outcome: a message already sent stays sent. Returns the row as stored.
    """
    _require_transaction(db)
    hlc = changelog.next_hlc(db)
    # A new decision is ordered by its own stamp: after the change that caused it, on any node.
    payload = {"order_hlc": hlc, **{k: v for k, v in message.items() if k in SYNCED_COLUMNS}}
    payload = {name: payload.get(name) for name in SYNCED_COLUMNS}
    apply_remote(db, payload, hlc)
    changelog.append(db, "message", payload["id"], "upsert", payload, hlc=hlc)
    return get(db, payload["id"]) or payload


def apply_remote(db: Connection, payload: dict[str, Any], hlc: str) -> bool:
    """Merge one message change; True when it changed the stored row. Applying it twice, or
    changes in any order, ends the same."""
    _require_transaction(db)
    current = db.execute(
        "SELECT state, state_hlc FROM messages WHERE id = ?", [payload["id"]]
    ).fetchone()
    row = {name: payload.get(name) for name in SYNCED_COLUMNS}
    for column in JSON_COLUMNS:
        row[column] = json_codec.dumps(row[column] or {})
    row["attempts"] = row["attempts"] or 0
    row["state_hlc"] = hlc
    if current is None:
        columns = (*SYNCED_COLUMNS, "state_hlc")
        db.execute(
            f"INSERT INTO messages ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})",
            row,
        )
        return True
    state, state_hlc = current
    incoming = (RANK.get(row["state"], 0), hlc)
    if incoming <= (RANK.get(state, 0), state_hlc):
        return False
    assignments = ", ".join(f"{name} = :{name}" for name in (*OUTCOME_COLUMNS, "state_hlc"))
    db.execute(f"UPDATE messages SET {assignments} WHERE id = :id", row)
    return True


def get(db: Connection, message_id: str) -> Message | None:
    rows = _rows(db, "SELECT * FROM messages WHERE id = ?", [message_id])
    return rows[0] if rows else None


def list_messages(
    db: Connection,
    *,
    after_id: str | None,
    limit: int,
    states: list[str] | None = None,
    booking_id: str | None = None,
    channel: str | None = None,
) -> list[Message]:
    """Messages in id (decision) order after `after_id`, filtered."""
    where, params = ["id > ?"], [after_id or ""]
    if states:
        where.append(f"state IN ({', '.join('?' * len(states))})")
        params.extend(states)
    for column, value in (("booking_id", booking_id), ("channel", channel)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT * FROM messages WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    return _rows(db, sql, [*params, limit])


def pending_for_booking(
    db: Connection, booking_id: str, channels: tuple[str, ...]
) -> list[Message]:
    """The booking's messages on these channels that have not gone out yet."""
    marks = ", ".join("?" * len(channels))
    return _rows(
        db,
        f"SELECT * FROM messages WHERE booking_id = ? AND state = 'pending' "
        f"AND channel IN ({marks}) ORDER BY id",
        [booking_id, *channels],
    )


def due(db: Connection, now_ms: int, limit: int) -> list[Message]:
    """Pending messages due by `now_ms` that no sender holds and no retry waits on, oldest due
    first. A webhook delivery waits while an earlier one of its booking (or customer) to the
    same subscription is pending, and while its subscription is disabled: in order per key."""
    return _rows(
        db,
        """SELECT m.* FROM messages m
           LEFT JOIN webhook_subscriptions s ON s.id = m.subscription_id
           WHERE m.state = 'pending' AND m.due_at <= :now
             AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= :now)
             AND (m.lease_until IS NULL OR m.lease_until <= :now)
             AND (m.channel != 'webhook' OR s.id IS NULL OR s.enabled = 1)
             AND NOT EXISTS (
                 SELECT 1 FROM messages e
                 WHERE m.channel = 'webhook' AND e.subscription_id = m.subscription_id
                   AND e.ordering_key = m.ordering_key AND e.state = 'pending'
                   AND e.order_hlc < m.order_hlc)
           ORDER BY m.due_at, m.order_hlc, m.id LIMIT :limit""",
        {"now": now_ms, "limit": limit},
    )


def already_sent_alike(
    db: Connection, message: Message, *, same_due: bool, same_basis: bool
) -> bool:
    """Whether another message of this booking, kind and channel went out already (with the
    same basis and due time, when asked): two laptops that moved one booking to the same time
    offline each decided its messages, and the customer must get them once."""
    sql = (
        "SELECT 1 FROM messages WHERE booking_id = ? AND kind = ? AND channel = ? "
        "AND state = 'sent' AND id != ?"
    )
    params: list[Any] = [message["booking_id"], message["kind"], message["channel"], message["id"]]
    if same_basis:
        sql += " AND basis = ?"
        params.append(json_codec.dumps(message["basis"] or {}))
    if same_due:
        sql += " AND due_at = ?"
        params.append(message["due_at"])
    return db.execute(sql + " LIMIT 1", params).fetchone() is not None


def lease(db: Connection, message_ids: list[str], until_ms: int) -> None:
    """Hold these messages for one sender until `until_ms` (node-local, never synced)."""
    _require_transaction(db)
    db.executemany(
        "UPDATE messages SET lease_until = ? WHERE id = ?", [(until_ms, i) for i in message_ids]
    )


def schedule_retry(db: Connection, message_id: str, at_ms: int | None) -> None:
    """When the sender tries this message next (node-local); None releases it now."""
    _require_transaction(db)
    db.execute(
        "UPDATE messages SET next_attempt_at = ?, lease_until = NULL WHERE id = ?",
        [at_ms, message_id],
    )


def counts_by_state(db: Connection) -> dict[str, int]:
    rows = db.execute("SELECT state, COUNT(*) FROM messages GROUP BY state").fetchall()
    return {state: count for state, count in rows}
