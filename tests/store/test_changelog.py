"""The change log and the clock: gapless origin sequences, stamps that only increase."""

from __future__ import annotations

import pytest

from app import store
from app.core import clock
from app.store import changelog
from tests.store import records


def _write_customer(db, name="Ada"):
    with store.transaction(db):
        store.insert_customer(db, records.customer(name=name))


def _stamps_and_clock(db):
    stamps = [change["hlc"] for change in changelog.own_pending(db, 0, 100)]
    return stamps, store.meta(db, "hlc")


def test_origin_seq_is_gapless_even_after_a_rollback(db):
    _write_customer(db)
    with pytest.raises(RuntimeError), store.transaction(db):
        store.insert_customer(db, records.customer())
        raise RuntimeError
    _write_customer(db)
    assert [change["origin_seq"] for change in changelog.own_pending(db, 0, 10)] == [1, 2]


def test_change_rows_carry_increasing_hlc_stamps_of_this_node(db):
    for _ in range(3):
        _write_customer(db)
    changes = changelog.own_pending(db, 0, 10)
    stamps = [change["hlc"] for change in changes]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert {change["origin_node"] for change in changes} == {store.node_id(db)}
    assert all(stamp.endswith(store.node_id(db)) for stamp in stamps)


def test_stamps_keep_increasing_when_connections_take_turns(db, other, monkeypatch):
    # Each connection remembers the last stamp it stored; the others move the clock meanwhile.
    # A frozen wall clock leaves only the logical counter to order the stamps.
    monkeypatch.setattr(changelog, "wall_ms", lambda: 1_800_000_000_000)
    for writer in (db, other, other, db, other, db, db):
        _write_customer(writer)
    stamps, stored = _stamps_and_clock(db)
    assert stamps == sorted(stamps) and len(set(stamps)) == 7
    assert stored == stamps[-1]


def test_a_rolled_back_write_leaves_the_clock_at_the_last_committed_stamp(db):
    _write_customer(db)
    with pytest.raises(RuntimeError), store.transaction(db):
        store.insert_customer(db, records.customer())
        raise RuntimeError
    stamps, stored = _stamps_and_clock(db)
    assert stored == stamps[-1]
    _write_customer(db)
    stamps, stored = _stamps_and_clock(db)
    assert stamps == sorted(stamps) and len(set(stamps)) == 2 and stored == stamps[-1]


def test_a_change_travels_as_it_was_written(db):
    customer = records.customer(name="Zoë", tags=["vip"])
    with store.transaction(db):
        store.insert_customer(db, customer)
    (change,) = changelog.own_pending(db, 0, 10)
    assert change["change_id"] == f"{store.node_id(db)}:1"
    assert (change["entity"], change["entity_id"], change["op"]) == (
        "customer",
        customer["id"],
        "upsert",
    )
    assert change["payload"] == customer and change["clock_suspect"] is False
    ((position, pulled),) = changelog.since(db, [], 10)
    assert pulled == change
    assert changelog.since(db, position, 10) == []


def test_changes_from_elsewhere_are_kept_once_and_found_as_held(db):
    remote = {
        "origin_node": "node-b",
        "origin_seq": 1,
        "hlc": "0001800000000000-0000-node-b",
        "entity": "customer",
        "entity_id": "cus_1",
        "op": "upsert",
        "payload": {"name": "Bo"},
    }
    with store.transaction(db):
        changelog.store_remote_many(db, [(remote, False)])
    assert changelog.held_among(db, [remote, {**remote, "origin_seq": 2}]) == {("node-b", 1)}
    assert changelog.first_differing(db, [remote]) is None
    assert changelog.first_differing(db, [{**remote, "payload": {"name": "Other"}}]) is not None
    assert changelog.own_max_seq(db, "node-b") == 1
    with store.transaction(db):
        changelog.flag_suspect(db, "node-b", 1)
    assert [change["change_id"] for change in changelog.suspect_changes(db)] == ["node-b:1"]


def test_forgetting_the_identity_reads_the_node_id_again(db, other):
    before = store.node_id(db)
    with store.transaction(other):
        store.set_meta(other, "node_id", "renamed")
    assert store.node_id(db) == before  # remembered for this connection
    changelog.forget_identity(db)
    assert store.node_id(db) == "renamed"


def _stamp(millis: int, counter: int = 0, node: str = "01LAPTOP") -> str:
    return clock.Hlc(millis, counter, node).encode()


def test_a_merge_moves_the_clock_past_what_it_saw_by_commit_and_never_back(db, other, monkeypatch):
    now = 1_800_000_000_000
    monkeypatch.setattr(changelog, "wall_ms", lambda: now)
    _write_customer(db)
    before = _stored_clock(other)
    ahead, behind = _stamp(now + 60_000, 3), _stamp(now - 60_000)
    suspect = _stamp(now + 10 * 60_000)  # more than five minutes ahead: never adopted
    with store.transaction(db):  # as a push observes what it brings (sync.service)
        changelog.observe_at_commit(db)
        for stamp in (behind, suspect, ahead):
            changelog.observe(db, stamp, now)
        made = changelog.next_hlc(db, now)  # a stamp made after seeing them sorts after them
    assert made > ahead and _stored_clock(other) == made
    with store.transaction(db):
        changelog.observe_at_commit(db)
        changelog.observe(db, behind, now)
    assert _stored_clock(other) == made
    _write_customer(other)
    stamps, _stored = _stamps_and_clock(other)
    assert stamps[-1] > made and before < ahead


def test_a_merge_that_rolls_back_leaves_the_clock_where_it_was(db, other, monkeypatch):
    now = 1_800_000_000_000
    monkeypatch.setattr(changelog, "wall_ms", lambda: now)
    _write_customer(db)
    before = _stored_clock(other)
    with pytest.raises(RuntimeError), store.transaction(db):
        changelog.observe_at_commit(db)
        changelog.observe(db, _stamp(now + 60_000), now)
        raise RuntimeError
    assert _stored_clock(other) == before
    with store.transaction(db):
        changelog.observe_at_commit(db)
        changelog.observe(db, _stamp(now + 60_000, 7), now)
    assert _stored_clock(other)[:22] == _stamp(now + 60_000, 7)[:22]
    assert _stored_clock(other).endswith(store.node_id(db))


def _stored_clock(connection) -> str:
    return store.meta(connection, "hlc")
