"""The hub's side of the protocol, and the anomaly and status views every node offers.

No Flask here: app.web.routes.hub turns these into routes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from app import store
from app.core.times import format_instant, wall_ms
from app.domain import pagination
from app.store import Connection, changelog
from sync import merge
from sync.errors import ChangeIdReused, NotThisKeysNode, SequenceGap, SyncKeyInUse

log = logging.getLogger(__name__)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def claim_key(db: Connection, key_id: str, push: Push) -> None:
    """A sync key serves the first node that uses it, then that node's successors (SYNC.md §3a).

    A successor (a restored or copied database: its lineage names the key's node, and it shows
    the lineage token that node showed) takes the key over when the key's node has not pushed
    since the copy was made: the original is gone, as after a restore. While the original
    still syncs, the copy is a second laptop and is refused; so is any node the key has moved
    away from. Refused nodes keep every change until a person gives them a key of their own.
    In the caller's transaction.
    """
    node = push.node_id
    bound, lineage_hash, pushed_at = store.sync_key_binding(db, key_id)
    moves = store.sync_key_moves(db, key_id)
    shown = _hash(push.lineage_token) if push.lineage_token else None
    _refuse_if_moved_away(moves, node)
    if bound is None or bound == node:
        if bound is None or (lineage_hash is None and shown):
            store.bind_sync_key(db, key_id, node, shown)
        return
    served = {bound, *moves}
    parents = [entry for entry in push.lineage if entry["node_id"] in served]
    # Keys bound before lineage tokens existed have no hash; their lineage is taken on trust.
    proven = lineage_hash is None or hmac.compare_digest(shown or "", lineage_hash)
    if not parents or not proven:
        raise NotThisKeysNode(f"This sync key belongs to node {bound}, not {node}.")
    if pushed_at is not None and pushed_at > push.lineage[-1]["at"]:
        raise SyncKeyInUse(
            f"This database is a copy of node {bound}, which still syncs with this key; "
            f"two laptops cannot share one key. {_GET_A_KEY}",
            extra={"node_id": bound},
        )
    store.record_sync_key_move(db, key_id, bound, node, wall_ms())
    store.bind_sync_key(db, key_id, node, shown)
    log.warning("Sync key %s moved from node %s to its successor %s.", key_id, bound, node)


_GET_A_KEY = (
    "Make this laptop a sync key of its own on the hub (booking keys create --scopes sync) "
    "and restart it with --hub-key set to that key; nothing is lost meanwhile."
)


def _refuse_if_moved_away(moves: dict[str, tuple[str, int]], node: str) -> None:
    """A node the key moved away from is a second live copy (or an older one): refused."""
    if node in moves:
        moved_to, moved_at = moves[node]
        raise SyncKeyInUse(
            f"This sync key moved to node {moved_to}, a copy of this database, on "
            f"{format_instant(moved_at)}; two laptops cannot share one key. {_GET_A_KEY}",
            extra={"node_id": moved_to},
        )


def check_pull_key(db: Connection, key_id: str, bound: str | None, node: str | None) -> None:
    """A pull names the node it syncs for; the key must serve it (SYNC.md §3, §3a)."""
    if not node:
        return
    _refuse_if_moved_away(store.sync_key_moves(db, key_id), node)
    if bound and node != bound:
        raise NotThisKeysNode(f"This sync key belongs to node {bound}, not {node}.")


@dataclass(frozen=True)
class Push:
    """A node's push as plain data: its changes, and its lineage (SYNC.md §3a)."""

    node_id: str
    changes: list[dict[str, Any]]
    lineage: list[dict[str, Any]] = field(default_factory=list)  # node_id, through, at
    lineage_token: str | None = None


# A push that ran into another transaction (a deadlock, a serialization failure: PostgreSQL
# only) runs again from the start this many times in all before the node is answered 503.
PUSH_ATTEMPTS = 4
_RETRY_PAUSE_S = 0.05  # times the attempt number, with jitter: the other one must finish first


def push(db: Connection, body: Push, *, key_id: str) -> dict:
    """Apply a node's batch in one transaction; repeats are skipped, gaps are 409.

    Never refuses a change for a business reason: the merge rules decide its effect. A change
    id the hub holds with other content is a 409 change_id_reused: never skipped as a repeat.
    Another hub process may apply a push of the same node at once (store.hold_push); a push
    that collides with another transaction (store.Contention) runs again, a few times.
    """
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        try:
            return _apply_push(db, body, key_id=key_id)
        except store.Contention as error:
            if attempt == PUSH_ATTEMPTS or db.in_transaction:
                raise
            log.info(
                "Push of node %s ran into another transaction (%s); again.", body.node_id, error
            )
            time.sleep(_RETRY_PAUSE_S * attempt * (0.5 + random.random()))
    raise AssertionError("unreachable: the last attempt returns or raises")


def _apply_push(db: Connection, body: Push, *, key_id: str) -> dict:
    """One attempt at push(): everything in one transaction, which commits or leaves nothing."""
    changes = sorted(body.changes, key=lambda c: c["origin_seq"])
    with store.transaction(db):
        changelog.observe_at_commit(db)  # the clock row, locked by every push: last, not first
        store.hold_push(db, key_id, {body.node_id, *(c["origin_node"] for c in changes)})
        current, former = store.epoch_and_former_node_ids(db)
        _refuse_foreign(body, former)
        relayed = [c for c in changes if c["origin_node"] != body.node_id]
        claim_key(db, key_id, body)
        acked = store.peer_acked(db, body.node_id)
        own = [c for c in changes if c["origin_node"] == body.node_id]
        _refuse_reused_ids(db, [c for c in own if c["origin_seq"] <= acked])
        _refuse_reused_ids(db, relayed)
        fresh = [c for c in own if c["origin_seq"] > acked]
        expected = acked + 1
        for change in fresh:
            if change["origin_seq"] != expected:
                raise SequenceGap(
                    f"Expected change {expected} of node {body.node_id} next; resend from there.",
                    extra={
                        "expected": expected,
                        "epoch": current,
                        "high_water": acked,
                        "former_nodes": former,
                    },
                )
            expected += 1
        merge.hold_what_changes_touch(db, relayed + fresh)
        report = merge.apply_changes(db, relayed + fresh, judge_clocks=True)
        if fresh:
            acked = fresh[-1]["origin_seq"]
            store.set_peer_acked(db, body.node_id, acked)
            store.note_sync_key_push(db, key_id, wall_ms())
        merge.resolve_double_bookings(db, report.touched_bookings)
    return {
        "acked_through": acked,
        "epoch": current,
        "high_water": acked,
        "former_nodes": former,
    }


def _refuse_foreign(body: Push, former: list[str]) -> None:
    """Besides its own, a node may hand back what this hub made under a former identity
    (before a restore): those changes live on only in the nodes. Nothing else."""
    allowed = {body.node_id, *former}
    foreign = [c["change_id"] for c in body.changes if c["origin_node"] not in allowed]
    if foreign:
        raise NotThisKeysNode(f"A node may push only its own changes; {foreign[0]} is not.")


def _refuse_reused_ids(db: Connection, resent: list[dict[str, Any]]) -> None:
    """A change the hub holds already is a retry only if it is the same change."""
    reused = changelog.first_differing(db, resent)
    if reused is None:
        return
    log.warning(
        "Node %s pushed change %s with content other than the hub holds: the pushing database "
        "is a copy; it takes an id of its own and re-issues its changes.",
        reused["origin_node"],
        reused["change_id"],
    )
    raise ChangeIdReused(
        f"This hub already holds change {reused['change_id']} with other content: this "
        "database is a copy of another. It takes a node id of its own and sends its changes "
        "again by itself.",
        extra={"origin_node": reused["origin_node"], "origin_seq": reused["origin_seq"]},
    )


def pull(
    db: Connection,
    *,
    cursor: str | None,
    limit: int,
    node: str | None,
    secret: str,
    text: bool = False,
    skip_own: bool = False,
) -> dict[str, Any]:
    """One page of changes in the hub's arrival order, with the cursor for the next.

    The cursor is the hub's epoch plus the feed position of the last change sent (on SQLite
    the integer sequence assigned in the write transaction; on PostgreSQL that sequence after
    the writing transaction's id), never a timestamp; a cursor from another epoch (a restored
    hub) starts again at the beginning.
    With `text`, each change is its JSON text (see changelog.wire_text); with `skip_own`, the
    changes `node` made are left out (changelog.since).
    """
    current, former = store.epoch_and_former_node_ids(db)
    position = pagination.decode(secret, "sync", cursor) if cursor else [current]
    after = position[1:] if position[0] == current else []
    skip = node if skip_own else None
    rows = changelog.since(db, after, limit + 1, skip_node=skip, text=text)
    page, has_more = rows[:limit], len(rows) > limit
    last = page[-1][0] if page else after
    return {
        "changes": [change for _, change in page],
        "next_cursor": pagination.encode(secret, "sync", [current, *last]),
        "has_more": has_more,
        "epoch": current,
        "high_water": store.peer_acked(db, node) if node else 0,
        "former_nodes": former,
    }


def anomalies(db: Connection) -> list[dict[str, Any]]:
    """Everything that could not take effect, the same on every node once synced."""
    found: list[dict[str, Any]] = []
    for event in store.unapplied_events(db):
        found.append(
            {
                "kind": "invalid_event",
                "id": event["id"],
                "booking_id": event["booking_id"],
                "other_booking_id": None,
                "message": event["anomaly"],
                "hlc": event["hlc"],
            }
        )
    for record in store.anomaly_records(db):
        found.append({**record})
    for change in changelog.suspect_changes(db):
        found.append(
            {
                "kind": "clock_suspect",
                "id": change["change_id"],
                "booking_id": None,
                "other_booking_id": None,
                "hlc": change["hlc"],
                "message": f"Node {change['origin_node']} stamped a change more than five minutes "
                "ahead of this clock; check that laptop's date and time.",
            }
        )
    return sorted(found, key=lambda a: (a["hlc"], a["id"]))
