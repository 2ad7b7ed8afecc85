"""The PostgreSQL schema: the SQLite schema's tables and columns, applied safely at start."""

from __future__ import annotations

import importlib
import subprocess
import sys

import psycopg
from sqlite_utils import Database

from app import store
from app.store import customer_search, postgres
from app.store.postgres_schema import SCRIPTS, migrate
from migrations.migrations import migrations

PHONE_DIGITS = importlib.import_module(
    "migrations.postgresql.versions.0005_customer_search_indexes"
).PHONE_DIGITS


def _sqlite_columns(tmp_path) -> dict[str, set[str]]:
    db = Database(str(tmp_path / "schema.db"))
    migrations.apply(db)
    tables = {name for name in db.table_names() if not name.startswith(("_sqlite", "sqlite_"))}
    return {table: set(db[table].columns_dict) for table in tables}


def _postgres_columns(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
        ).fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return columns


def test_postgres_has_every_sqlite_table_and_column(postgres_url, tmp_path):
    """The store's SQL runs on both, so both have the same tables and columns; the PostgreSQL
    change log has one more, the writing transaction (app.store.postgres_feed)."""
    expected = _sqlite_columns(tmp_path)
    expected["change_log"].add("tx")
    assert _postgres_columns(postgres_url) == expected


def test_text_sorts_by_byte_value_as_in_sqlite(postgres_url):
    """Events replay in stamp order and lists sort by name on every node, SQLite or not."""
    words = ["b", "B", "a-c", "ab", "_x", "Z"]
    with psycopg.connect(postgres_url) as conn:
        for word in words:
            conn.execute("INSERT INTO node_meta (key, value) VALUES (%s, 'v')", [word])
        stored = [key for (key,) in conn.execute("SELECT key FROM node_meta ORDER BY key")]
    assert stored == sorted(words, key=str.encode)


# The newest revision: the highest-numbered file in migrations/postgresql/versions.
NEWEST = max(path.name.split("_")[0] for path in (SCRIPTS / "versions").glob("[0-9]*.py"))


def test_two_hub_processes_starting_at_once_migrate_once(postgres_server):
    url = postgres_server.create_database()  # empty: nothing migrated yet
    program = (
        "import sys; from app.store.postgres_schema import migrate; print(migrate(sys.argv[1]))"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", program, url], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [start.communicate(timeout=120)[0].strip() for start in starts]
    assert [start.returncode for start in starts] == [0, 0, 0]
    assert outputs == [NEWEST] * 3
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(NEWEST,)]
    assert migrate(url) == NEWEST  # and once more, at the next start, nothing to do
    postgres_server.drop_database(url.rsplit("/", 1)[1])


# --- the counter's type-ahead reads indexes (revision 0005) -----------------------------------


def _plan(db: store.Connection, search, *args) -> str:
    """PostgreSQL's plan for the statement `search` runs, with sequential scans priced out
    (a test's few rows would otherwise be read straight from the table)."""
    statements = []
    run = db.execute

    def recording(sql, params=()):
        statements.append((sql, params))
        return run(sql, params)

    db.execute = recording
    try:
        search(db, *args)
    finally:
        db.execute = run
    sql, params = statements[-1]
    with store.transaction(db):
        db.execute("SET LOCAL enable_seqscan = off")
        return "\n".join(row[0] for row in db.execute(f"EXPLAIN {sql}", params).fetchall())


def test_the_type_ahead_reads_an_index_on_postgresql(postgres_url):
    db = store.open_db(postgres_url)
    try:
        assert "customers_name_lower" in _plan(db, customer_search.by_name_prefix, "ad", 8)
        assert "customers_phone_digits" in _plan(
            db, customer_search.by_phone_prefixes, ["07700"], 8
        )
        assert "customers_email" in _plan(db, customer_search.by_email_prefix, "ada@", 8)
    finally:
        db.close()


def test_the_phone_index_spells_the_expression_the_search_compares():
    """A migration is frozen; the query's expression may not drift from it unnoticed."""
    assert postgres.PostgresDialect.phone_digits == PHONE_DIGITS
