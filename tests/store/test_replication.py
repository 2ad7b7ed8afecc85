"""Replication state and idempotency records: what sync and retries keep between runs."""

from __future__ import annotations

import pytest

from app import store


def test_a_migrated_database_has_an_identity_and_secrets(db):
    assert store.node_id(db)
    assert store.organization_id(db)
    assert store.meta(db, "cursor_secret") != store.meta(db, "session_secret")
    assert store.former_node_ids(db) == []
    assert store.meta(db, "no_such_key") is None


def test_meta_is_written_inside_a_transaction_only(db):
    with pytest.raises(AssertionError):
        store.set_meta(db, "k", "v")
    with store.transaction(db):
        store.set_meta(db, "k", "v")
        store.set_meta(db, "k", "w")
    assert store.meta(db, "k") == "w"


def test_a_backup_is_marked_to_take_a_new_identity(db):
    store.mark_as_backup(db)
    assert store.meta(db, "restored_from_backup") == "1"


def test_sync_state_is_written_alone_or_in_the_callers_transaction(db):
    store.set_sync_state(db, pull_cursor="c1", acked_through=3)
    with pytest.raises(RuntimeError), store.transaction(db):
        store.set_sync_state(db, pull_cursor="lost")
        raise RuntimeError
    assert store.sync_state(db) == {"pull_cursor": "c1", "acked_through": "3"}
    store.set_sync_state(db, pull_cursor=None)
    assert store.sync_state(db)["pull_cursor"] is None


def test_a_peer_is_acked_from_zero(db):
    assert store.peer_acked(db, "node-b") == 0
    with store.transaction(db):
        store.set_peer_acked(db, "node-b", 4)
        store.set_peer_acked(db, "node-b", 7)
    assert store.peer_acked(db, "node-b") == 7


def test_a_sync_key_binds_to_a_node_and_remembers_its_moves(db):
    key = {
        "id": "key_sync",
        "name": "sync",
        "secret_hash": "h",
        "scopes": ["sync"],
        "rate_limit": "600/minute",
        "tokens_remaining": None,
        "created_at": 1,
    }
    with store.transaction(db):
        store.insert_api_key(db, key)
    assert store.sync_key_binding(db, "key_sync") == (None, None, None)
    with store.transaction(db):
        store.bind_sync_key(db, "key_sync", "node-a", "lineage")
        store.note_sync_key_push(db, "key_sync", 10)
    assert store.sync_key_binding(db, "key_sync") == ("node-a", "lineage", 10)
    with store.transaction(db):
        store.record_sync_key_move(db, "key_sync", "node-a", "node-b", 20)
        store.record_sync_key_move(db, "key_sync", "node-a", "node-c", 30)
        store.bind_sync_key(db, "key_sync", "node-c", "other")
    assert store.sync_key_moves(db, "key_sync") == {"node-a": ("node-c", 30)}
    assert store.sync_key_binding(db, "key_sync") == ("node-c", "lineage", 10)
    assert store.sync_key_binding(db, "key_unknown") == (None, None, None)


def test_an_idempotent_response_is_kept_then_replaced_once_expired(db):
    record = {
        "api_key_id": "key_1",
        "key": "retry-1",
        "fingerprint": "f1",
        "status": 201,
        "body": "{}",
        "created_at": 100,
    }
    store.save_idempotent(db, record, expired_before=0)
    assert store.get_idempotent(db, "key_1", "retry-1", since=50) == {
        "fingerprint": "f1",
        "status": 201,
        "body": "{}",
    }
    assert store.get_idempotent(db, "key_1", "retry-1", since=150) is None
    store.save_idempotent(db, {**record, "fingerprint": "f2", "created_at": 200}, 150)
    assert store.get_idempotent(db, "key_1", "retry-1", since=150)["fingerprint"] == "f2"
    assert store.count_rows(db, "idempotency_keys") == 1
