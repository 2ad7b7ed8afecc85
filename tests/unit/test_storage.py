"""Storage guarantees: pragmas, migrations, and that a write and its change commit together."""

import sqlite3
import time
from pathlib import Path

import pytest

from app import store
from app.core.ids import new_id
from app.store import changelog
from app.web.auth import create_key, revoke_key
from sync import identity
from tests.tools.dump_schema import schema_sql

SCHEMA = Path(__file__).parent.parent / "schema.sql"


def _customer(name="Ada"):
    return {
        "id": new_id("cus"),
        "name": name,
        "external_id": None,
        "phone": None,
        "email": None,
        "tags": [],
        "metadata": {},
        "created_at": 1,
        "updated_at": 1,
    }


def test_database_is_wal_with_foreign_keys_and_busy_timeout(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS


def test_migrating_twice_is_harmless_and_keeps_the_node_id(db_path):
    first = identity.init_database(db_path)
    assert identity.init_database(db_path) == first


def test_schema_matches_tests_schema_sql(db):
    """An insert that auto-created a table, or an edited migration, shows up here."""
    assert schema_sql(db).strip() == SCHEMA.read_text().strip(), "run `make schema`"


def test_a_failed_write_leaves_neither_row_nor_change(db):
    with pytest.raises(sqlite3.IntegrityError), store.transaction(db):
        store.insert_customer(db, _customer())
        store.insert_customer(db, {**_customer(), "name": None})  # NOT NULL fails
    assert store.count_rows(db, "customers") == 0
    assert changelog.count(db) == 0


def test_an_exception_after_the_write_rolls_back_both(db):
    with pytest.raises(RuntimeError), store.transaction(db):
        store.insert_customer(db, _customer())
        raise RuntimeError("crash before commit")
    assert store.count_rows(db, "customers") == 0 and changelog.count(db) == 0


def test_origin_seq_is_gapless_even_after_a_rollback(db):
    with store.transaction(db):
        store.insert_customer(db, _customer())
    with pytest.raises(RuntimeError), store.transaction(db):
        store.insert_customer(db, _customer())
        raise RuntimeError
    with store.transaction(db):
        store.insert_customer(db, _customer())
    seqs = [row[0] for row in db.execute("SELECT origin_seq FROM change_log ORDER BY seq")]
    assert seqs == [1, 2]


def test_change_rows_carry_increasing_hlc_stamps_of_this_node(db):
    for _ in range(3):
        with store.transaction(db):
            store.insert_customer(db, _customer())
    rows = db.execute("SELECT origin_node, hlc FROM change_log ORDER BY seq").fetchall()
    stamps = [hlc for _, hlc in rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert {node for node, _ in rows} == {store.node_id(db)}
    assert all(stamp.endswith(store.node_id(db)) for stamp in stamps)


def _write_customer(db):
    with store.transaction(db):
        store.insert_customer(db, _customer())


def _stamps_and_clock(db):
    stamps = [row[0] for row in db.execute("SELECT hlc FROM change_log ORDER BY seq")]
    return stamps, db.execute("SELECT value FROM node_meta WHERE key = 'hlc'").fetchone()[0]


def test_stamps_keep_increasing_when_connections_take_turns(db, db_path, monkeypatch):
    # Each connection remembers the last stamp it stored; the others move the clock meanwhile.
    # A frozen wall clock leaves only the logical counter to order the stamps.
    monkeypatch.setattr(changelog, "wall_ms", lambda: 1_800_000_000_000)
    other = store.open_db(db_path)
    for writer in (db, other, other, db, other, db, db):
        _write_customer(writer)
    stamps, stored = _stamps_and_clock(db)
    assert stamps == sorted(stamps) and len(set(stamps)) == 7
    assert stored == stamps[-1]
    other.close()


def test_a_rolled_back_write_leaves_the_clock_at_the_last_committed_stamp(db):
    _write_customer(db)
    with pytest.raises(RuntimeError), store.transaction(db):
        store.insert_customer(db, _customer())
        raise RuntimeError
    stamps, stored = _stamps_and_clock(db)
    assert stored == stamps[-1]
    _write_customer(db)
    stamps, stored = _stamps_and_clock(db)
    assert stamps == sorted(stamps) and len(set(stamps)) == 2 and stored == stamps[-1]


def test_writes_outside_a_transaction_are_refused(db):
    with pytest.raises(AssertionError):
        store.insert_customer(db, _customer())


def test_a_checkpointer_moves_checkpoints_off_the_commits(db_path):
    identity.init_database(db_path)
    checkpointer = store.Checkpointer(db_path, interval_s=0.01)
    checkpointer.start()
    try:
        writer = store.open_db(db_path)
        autocheckpoint = writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert autocheckpoint == store.BACKSTOP_AUTOCHECKPOINT_PAGES
        with store.transaction(writer):
            store.insert_customer(writer, _customer("Checkpointed"))
        time.sleep(0.2)
        writer.close()
    finally:
        checkpointer.stop()
    # The database file itself (read without its WAL) has the row: a checkpoint copied it.
    file_only = sqlite3.connect(f"file:{db_path}?immutable=1", uri=True)
    names = [row[0] for row in file_only.execute("SELECT name FROM customers")]
    file_only.close()
    assert names == ["Checkpointed"]
    later = store.open_db(db_path)
    assert later.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # SQLite's default
    later.close()


# --- API keys: read on every request, so each connection keeps the ones it has read ----------


def _make_key(db, tokens=None):
    record, _ = create_key(
        db, name="k", scopes=["booking:read"], rate_limit="600/minute", tokens=tokens
    )
    return record["id"]


def test_a_key_revoked_by_another_connection_reads_revoked_at_once(db, db_path):
    server, cli = db, store.open_db(db_path)
    key_id = _make_key(cli)
    assert store.get_api_key(server, key_id)["revoked_at"] is None  # now cached
    revoke_key(cli, key_id)
    assert store.get_api_key(server, key_id)["revoked_at"] is not None
    cli.close()


def test_a_key_revoked_on_the_connection_that_read_it_reads_revoked_at_once(db):
    key_id = _make_key(db)
    assert store.get_api_key(db, key_id)["revoked_at"] is None
    revoke_key(db, key_id)
    assert store.get_api_key(db, key_id)["revoked_at"] is not None


def test_a_token_balance_is_never_read_stale(db, db_path):
    server, other = db, store.open_db(db_path)
    key_id = _make_key(server, tokens=3)
    assert store.get_api_key(server, key_id)["tokens_remaining"] == 3
    assert store.spend_token(server, key_id) == 2
    assert store.get_api_key(server, key_id)["tokens_remaining"] == 2
    assert store.spend_token(other, key_id) == 1
    assert store.get_api_key(server, key_id)["tokens_remaining"] == 1
    other.close()


def test_a_cached_key_cannot_be_changed_through_what_get_api_key_returns(db):
    key_id = _make_key(db)
    store.get_api_key(db, key_id)["name"] = "changed"
    assert store.get_api_key(db, key_id)["name"] == "k"


def test_unknown_key_ids_are_not_remembered(db):
    for _ in range(3):
        assert store.get_api_key(db, new_id("key")) is None
    assert store._key_cache(db) == {}
