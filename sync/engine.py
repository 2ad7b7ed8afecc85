"""sync_once: push this node's pending changes, then pull every page from the hub.

No Flask and no scheduling here. Each pulled page is applied with its cursor in one
transaction, and changes already held are skipped, so a crash or a dropped response repeats
at most one page, harmlessly. A hub restored from a backup shows a new epoch, or a
high-water mark below what it acknowledged before: then this node re-sends its changes from
the hub's mark and pulls again from the start (SYNC.md §3).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from app import store
from app.core.times import wall_ms
from app.store import Connection, changelog
from sync import identity, merge
from sync.client import ChangeIdReusedError, HubClient, SequenceGapError

PUSH_BATCH = 500
PULL_PAGE = 500
MAX_PUSH_BYTES = 512 * 1024  # well under the hub's 1 MiB body limit
Progress = Callable[[str, int], None]


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    applied: int = 0
    restored_hub: bool = False


class _Again(Exception):
    """Start the round again: this database took a new node id, or must push before it pulls."""


def _noop(_kind: str, _count: int) -> None:
    pass


def sync_once(
    db: Connection,
    client: HubClient,
    *,
    batch: int = PUSH_BATCH,
    page_size: int = PULL_PAGE,
    progress: Progress = _noop,
) -> SyncReport:
    """One full push and pull. Raises HubUnavailable, HubRejected; never leaves half a page."""
    report = SyncReport()
    changelog.forget_identity(db)  # another process may have given this file a new node id
    with store.checkpoints_aside(db):  # a pull of a hub's history commits page after page
        for _round in range(4):  # a restore or a fork found on the way means pushing again
            try:
                _push(db, client, report, batch, progress)
                if not _pull(db, client, report, page_size, progress):
                    break
            except _Again:
                continue
    offset = getattr(client, "clock_offset_ms", None)
    store.set_sync_state(
        db,
        last_success=wall_ms(),
        last_error=None,
        failing_since=None,
        **({"hub_clock_offset_ms": offset} if offset is not None else {}),
    )
    return report


def _fork(db: Connection, reason: str, **how: object) -> None:
    """Take a node id of our own (sync.identity) and start the round again."""
    with store.transaction(db):
        identity.fork(db, reason, **how)  # type: ignore[arg-type]
    identity.note_beside(db)
    raise _Again


def _check_not_behind(db: Connection, hub_mark: int) -> None:
    """The hub holds changes of our node id that this file lacks: it is an older copy of that
    node (put back over the original's inode, or a cloned disk), and must not write under
    that id again.

    It shares with the hub only what the hub confirmed (`acked_through`): a change it wrote
    after that carries a change id the hub holds with other content. While such changes
    wait, push them first, so the hub compares them (change_id_reused names the fork point);
    then fork after the confirmed ones, re-issuing whatever was written since.
    """
    own = changelog.own_max_seq(db)
    if hub_mark <= own:
        return
    confirmed = _acked(db)
    if confirmed < own:
        raise _Again
    _fork(db, identity.BEHIND, shared_through=confirmed)


def _claim(db: Connection) -> dict[str, object]:
    """What shows the hub that a sync key bound to one of our former ids serves us."""
    return {"lineage": identity.ancestry(db), "lineage_token": identity.lineage_token(db)}


def _acked(db: Connection) -> int:
    return int(store.sync_state(db).get("acked_through") or 0)


def _batch(
    db: Connection, acked: int, batch: int, origin: str | None = None
) -> list[tuple[int, str]]:
    changes = changelog.held_from_text(db, origin or store.node_id(db), acked, batch)
    size, kept = 0, []
    for change in changes:
        size += len(change[1]) + 1
        if kept and size > MAX_PUSH_BYTES:
            break
        kept.append(change)
    return kept


def _push(db: Connection, client: HubClient, report: SyncReport, batch: int, progress: Progress):
    node, claim = store.node_id(db), _claim(db)
    acked = _acked(db)
    changes = _batch(db, acked, batch)
    if not changes and store.sync_state(db).get("claimed_as") != node:
        # A new identity claims its sync key before it pulls, even with nothing to push.
        _check_not_behind(db, client.push_text(node, [], claim)["acked_through"])
        store.set_sync_state(db, claimed_as=node)
    while changes:
        answer_later = client.in_background(
            client.push_text, node, [text for _, text in changes], claim
        )
        # The batch after this one is read while the hub merges this one; it goes next when
        # the hub acknowledges all of this one, as it does unless it was restored.
        following = _batch(db, changes[-1][0], batch)
        try:
            answer = answer_later.result()
        except ChangeIdReusedError as reused:
            _fork(db, identity.REUSED, shared_through=reused.origin_seq - 1, pull_again=True)
        except SequenceGapError as gap:
            # The hub has less than we thought (restored) or more (a lost answer): resend
            # from where it stands, after handing back what a restored hub made and lost.
            _relay(db, client, gap.former_nodes)
            acked = gap.expected - 1
            store.set_sync_state(db, acked_through=acked)
            changes = _batch(db, acked, batch)
            continue
        _note_epoch(db, answer["epoch"], report)
        store.set_sync_state(db, claimed_as=node)
        _relay(db, client, answer.get("former_nodes", []))
        # The hub confirmed this batch: each change new to it, or the very change it held.
        # It may hold more of our id than we sent (a lost answer, or a copy): that more is
        # confirmed only once we have sent it too.
        hub_mark, sent = answer["acked_through"], changes[-1][0]
        pushed = min(hub_mark, sent) - acked
        acked = min(hub_mark, sent)
        store.set_sync_state(db, acked_through=acked)
        report.pushed += max(pushed, 0)
        progress("push", max(pushed, 0))
        changes = following if acked == sent else _batch(db, acked, batch)
        if not changes:
            _check_not_behind(db, hub_mark)


def _relay(db: Connection, client: HubClient, former: list[str]) -> None:
    """Hand a restored hub back the changes it made under its former identities: after the
    backup they live on only in the nodes (SYNC.md §3). Once per identity; the hub skips
    what it holds."""
    done = set(json.loads(store.sync_state(db).get("relayed_from") or "[]"))
    node = store.node_id(db)
    for origin in former:
        if origin in done:
            continue
        after = 0
        while changes := _batch(db, after, PUSH_BATCH, origin):
            client.push_text(node, [text for _, text in changes], _claim(db))
            after = changes[-1][0]
        done.add(origin)
        store.set_sync_state(db, relayed_from=json.dumps(sorted(done)))


def _note_epoch(db: Connection, epoch: str, report: SyncReport) -> bool:
    """Remember the hub's epoch; a change of epoch means the hub was restored: pull anew."""
    known = store.sync_state(db).get("hub_epoch")
    if known == epoch:
        return False
    store.set_sync_state(db, hub_epoch=epoch, pull_cursor=None)
    if known is not None:
        report.restored_hub = True
        return True
    return False


def _pull(
    db: Connection, client: HubClient, report: SyncReport, page_size: int, progress: Progress
) -> bool:
    """Pull every page; True when the hub turned out to hold less of ours than it had acked.

    Each next page is asked for as soon as its cursor is known, and merged after this one:
    the same requests in the same order as one by one, but the hub and this node work at once.
    """
    node = store.node_id(db)
    repush = False
    page = client.pull(store.sync_state(db).get("pull_cursor"), page_size, node)
    while True:
        _check_not_behind(db, page["high_water"])
        if page["has_more"]:
            ahead = client.in_background(client.pull, page["next_cursor"], page_size, node)
        _relay(db, client, page.get("former_nodes", []))
        # A page from a new epoch (the hub was restored) starts at that epoch's beginning, as
        # the cursors after it do: it is merged like any other.
        _note_epoch(db, page["epoch"], report)
        with store.transaction(db):
            applied = merge.apply_changes(db, page["changes"]).applied
            store.set_sync_state(db, pull_cursor=page["next_cursor"], hub_epoch=page["epoch"])
            if page["high_water"] < _acked(db):
                store.set_sync_state(db, acked_through=page["high_water"])
                repush = True
        report.pulled += len(page["changes"])
        report.applied += applied
        progress("pull", len(page["changes"]))
        if not page["has_more"]:
            return repush
        page = ahead.result()
