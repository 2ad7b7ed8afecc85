"""API keys are read on every request, so each connection keeps the ones it has read; a key
changed anywhere must still read as it is now."""

from __future__ import annotations

from app import store
from app.core.ids import new_id
from tests.store import records


def _make_key(db, tokens=None) -> str:
    key = records.api_key(tokens_remaining=tokens)
    with store.transaction(db):
        store.insert_api_key(db, key)
    return key["id"]


def _revoke(db, key_id: str) -> bool:
    with store.transaction(db):
        return store.revoke_api_key(db, key_id, 5)


def test_a_key_reads_back_as_stored(db):
    key_id = _make_key(db, tokens=3)
    key = store.get_api_key(db, key_id)
    assert key["scopes"] == ["booking:read"] and key["tokens_remaining"] == 3
    assert [k["id"] for k in store.list_api_keys(db)] == [key_id]
    assert store.count_api_keys(db) == 1


def test_a_key_revoked_by_another_connection_reads_revoked_at_once(db, other):
    key_id = _make_key(other)
    assert store.get_api_key(db, key_id)["revoked_at"] is None  # now cached
    _revoke(other, key_id)
    assert store.get_api_key(db, key_id)["revoked_at"] is not None


def test_a_key_revoked_on_the_connection_that_read_it_reads_revoked_at_once(db):
    key_id = _make_key(db)
    assert store.get_api_key(db, key_id)["revoked_at"] is None
    _revoke(db, key_id)
    assert store.get_api_key(db, key_id)["revoked_at"] is not None


def test_revoking_twice_says_so(db):
    key_id = _make_key(db)
    assert _revoke(db, key_id) is True
    assert _revoke(db, key_id) is False
    assert _revoke(db, new_id("key")) is False


def test_a_token_balance_is_never_read_stale(db, other):
    key_id = _make_key(db, tokens=3)
    assert store.get_api_key(db, key_id)["tokens_remaining"] == 3
    assert store.spend_token(db, key_id) == 2
    assert store.get_api_key(db, key_id)["tokens_remaining"] == 2
    assert store.spend_token(other, key_id) == 1
    assert store.get_api_key(db, key_id)["tokens_remaining"] == 1


def test_a_spent_balance_stays_at_zero(db):
    key_id = _make_key(db, tokens=1)
    assert store.spend_token(db, key_id) == 0
    assert store.spend_token(db, key_id) is None
    assert store.get_api_key(db, key_id)["tokens_remaining"] == 0


def test_a_cached_key_cannot_be_changed_through_what_get_api_key_returns(db):
    key_id = _make_key(db)
    store.get_api_key(db, key_id)["name"] = "changed"
    assert store.get_api_key(db, key_id)["name"] == "k"


def test_unknown_key_ids_are_not_remembered(db):
    for _ in range(3):
        assert store.get_api_key(db, new_id("key")) is None
    _version, remembered = db.remembered_keys
    assert remembered == {}


def test_a_browser_session_lives_until_signed_out_or_expired(db):
    key_id = _make_key(db)
    with store.transaction(db):
        store.insert_ui_session(db, "hash-1", key_id, now_ms=100, expired=0)
    assert store.ui_session_key(db, "hash-1", expired=50) == key_id
    assert store.ui_session_key(db, "hash-1", expired=150) is None
    with store.transaction(db):
        store.delete_ui_session(db, "hash-1")
    assert store.ui_session_key(db, "hash-1", expired=50) is None


def test_a_new_session_drops_the_expired_ones(db):
    key_id = _make_key(db)
    with store.transaction(db):
        store.insert_ui_session(db, "old", key_id, now_ms=10, expired=0)
    with store.transaction(db):
        store.insert_ui_session(db, "new", key_id, now_ms=100, expired=50)
    assert store.count_rows(db, "ui_sessions") == 1
