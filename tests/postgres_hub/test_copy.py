"""A SQLite hub moves to PostgreSQL with every row of every table (README § The hub on
PostgreSQL); the sync-level proof, laptops syncing on after the move, is in test_hub_move.py."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from app.store.postgres_copy import FEED_ORIGIN_TX, FILE_ONLY_META, CopyRefused, copy_sqlite_hub


def _sqlite_columns(path: str) -> dict[str, list[str]]:
    """Each table's columns in SQLite's order (PostgreSQL's may differ: its revisions add
    columns in their own order)."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith(("sqlite_", "_sqlite"))
        ]
        return {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    finally:
        conn.close()


def _rows(read, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    return {
        table: sorted(read(f"SELECT {', '.join(names)} FROM {table}"), key=repr)
        for table, names in columns.items()
    }


def _sqlite_rows(path: str) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return _rows(lambda sql: conn.execute(sql).fetchall(), _sqlite_columns(path))
    finally:
        conn.close()


def _postgres_rows(url: str, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return _rows(lambda sql: conn.execute(sql).fetchall(), columns)


def test_every_row_of_a_sqlite_hub_arrives_in_postgres(
    client, db_path, admin_headers, make_customer, make_resource, booked, postgres_url
):
    chair = make_resource(name="Chair 1")
    make_customer(name="Ada", email="ada@example.com", tags=["vip"])
    booking = booked(chair["id"], "2030-01-07T10:00:00Z")
    cancelled = client.post(
        f"/modules/booking/bookings/{booking['id']}/transition",
        json={"status": "cancelled"},
        headers=admin_headers,
    )
    assert cancelled.status_code == 200, cancelled.json
    before = _sqlite_rows(db_path)
    assert before["change_log"] and before["booking_events"]

    counts = copy_sqlite_hub(db_path, postgres_url)

    assert counts == {table: len(rows) for table, rows in before.items()}
    after = _postgres_rows(postgres_url, _sqlite_columns(db_path))
    before["node_meta"] = [row for row in before["node_meta"] if row[0] not in FILE_ONLY_META]
    after["node_meta"] = [row for row in after["node_meta"] if row[0] != FEED_ORIGIN_TX]
    assert after == before
    with psycopg.connect(postgres_url) as conn:  # new changes come after the copied ones
        conn.execute(
            "INSERT INTO change_log (origin_node, origin_seq, hlc, entity, entity_id, op, "
            "payload) VALUES ('n', 1, '0', 'customer', 'c', 'upsert', '{}')"
        )
        newest = conn.execute("SELECT MAX(seq) FROM change_log").fetchone()[0]
    assert newest == max(row[0] for row in before["change_log"]) + 1


def test_a_database_that_holds_a_hub_already_is_refused_and_left_as_it_was(
    client, db_path, make_customer, postgres_url
):
    make_customer(name="Ada")
    copy_sqlite_hub(db_path, postgres_url)
    with psycopg.connect(postgres_url) as conn:
        before = conn.execute("SELECT COUNT(*) FROM change_log").fetchone()
    make_customer(name="Grace")
    with pytest.raises(CopyRefused, match="already holds a hub"):
        copy_sqlite_hub(db_path, postgres_url)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM change_log").fetchone() == before


def test_a_missing_file_is_refused(tmp_path, postgres_url):
    with pytest.raises(CopyRefused, match="No SQLite database"):
        copy_sqlite_hub(str(tmp_path / "nowhere.db"), postgres_url)
