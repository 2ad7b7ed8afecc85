"""The PostgreSQL schema: the SQLite schema's tables and columns, applied safely at start."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from sqlite_utils import Database

from app.store.postgres_schema import SCRIPTS, migrate
from migrations.migrations import migrations


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
