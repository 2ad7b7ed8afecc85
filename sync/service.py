"""The hub's side of the protocol, and the anomaly and status views every node offers.

No Flask here: sync.hub turns these into routes.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from app import pagination, storage
from app.errors import Forbidden, SequenceGap
from app.validation import SyncPush
from sync import changelog, merge


def epoch(db: Database) -> str:
    value = storage.meta(db, "epoch")
    assert value, "database not migrated"
    return value


def _bind(db: Database, key_id: str, bound_node: str | None, node: str) -> None:
    """A sync key belongs to the first node that uses it (SYNC.md §3)."""
    if bound_node is None:
        bound_node = storage.bind_key_to_node(db, key_id, node)
    if bound_node != node:
        raise Forbidden(f"This sync key belongs to node {bound_node}, not {node}.")


def push(db: Database, body: SyncPush, *, key_id: str, bound_node: str | None) -> dict:
    """Apply a node's batch in one transaction; repeats are skipped, gaps are 409.

    Never refuses a change for a business reason: the merge rules decide its effect.
    """
    _bind(db, key_id, bound_node, body.node_id)
    # Besides its own, a node may hand back what this hub made under a former identity (before
    # a restore): those changes live on only in the nodes.
    former = storage.former_node_ids(db)
    allowed = {body.node_id, *former}
    foreign = [c["change_id"] for c in body.changes if c["origin_node"] not in allowed]
    if foreign:
        raise Forbidden(f"A node may push only its own changes; {foreign[0]} is not.")
    changes = sorted(body.changes, key=lambda c: c["origin_seq"])
    relayed = [c for c in changes if c["origin_node"] != body.node_id]
    with storage.transaction(db):
        acked = storage.peer_acked(db, body.node_id)
        fresh = [c for c in changes if c["origin_node"] == body.node_id and c["origin_seq"] > acked]
        expected = acked + 1
        for change in fresh:
            if change["origin_seq"] != expected:
                raise SequenceGap(
                    f"Expected change {expected} of node {body.node_id} next; resend from there.",
                    extra={
                        "expected": expected, "epoch": epoch(db), "high_water": acked,
                        "former_nodes": former,
                    },
                )  # fmt: skip
            expected += 1
        report = merge.apply_changes(db, relayed + fresh, judge_clocks=True)
        if fresh:
            acked = fresh[-1]["origin_seq"]
            storage.set_peer_acked(db, body.node_id, acked)
        merge.resolve_double_bookings(db, report.touched_bookings)
    return {
        "acked_through": acked, "epoch": epoch(db), "high_water": acked, "former_nodes": former,
    }  # fmt: skip


def pull(
    db: Database,
    *,
    cursor: str | None,
    limit: int,
    node: str | None,
    secret: str,
    text: bool = False,
    skip_own: bool = False,
) -> dict[str, Any]:
    """One page of changes in the hub's arrival order, with the cursor for the next.

    The cursor is the hub's epoch plus an integer sequence assigned in the write transaction,
    never a timestamp; a cursor from another epoch (a restored hub) starts again at zero.
    With `text`, each change is its JSON text (see changelog.wire_text); with `skip_own`, the
    changes `node` made are left out (changelog.since).
    """
    current = epoch(db)
    position = pagination.decode(secret, "sync", cursor) if cursor else [current, 0]
    after = position[1] if position[0] == current else 0
    skip = node if skip_own else None
    rows = changelog.since(db, after, limit + 1, skip_node=skip, text=text)
    page, has_more = rows[:limit], len(rows) > limit
    last = page[-1][0] if page else after
    return {
        "changes": [change for _, change in page],
        "next_cursor": pagination.encode(secret, "sync", [current, last]),
        "has_more": has_more,
        "epoch": current,
        "high_water": storage.peer_acked(db, node) if node else 0,
        "former_nodes": storage.former_node_ids(db),
    }


def anomalies(db: Database) -> list[dict[str, Any]]:
    """Everything that could not take effect, the same on every node once synced."""
    found: list[dict[str, Any]] = []
    for event in storage.unapplied_events(db):
        found.append({
            "kind": "invalid_event", "id": event["id"], "booking_id": event["booking_id"],
            "other_booking_id": None, "message": event["anomaly"], "hlc": event["hlc"],
        })  # fmt: skip
    for record in storage.anomaly_records(db):
        found.append({**record})
    for change in changelog.suspect_changes(db):
        found.append({
            "kind": "clock_suspect", "id": change["change_id"], "booking_id": None,
            "other_booking_id": None, "hlc": change["hlc"],
            "message": f"Node {change['origin_node']} stamped a change more than five minutes "
            "ahead of this clock; check that laptop's date and time.",
        })  # fmt: skip
    return sorted(found, key=lambda a: (a["hlc"], a["id"]))
