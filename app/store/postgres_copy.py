"""Move a hub from its SQLite file to a PostgreSQL database, with nothing lost.

`booking init --db postgresql://… --from hub.db` runs this once, with the SQLite hub stopped.
Every row of every table is copied in one PostgreSQL transaction, which commits only when each
table holds as many rows as the file; the hub keeps its node id, epoch, secrets and keys, so
laptops sync on without noticing: their cursors stay valid (postgres_feed explains how) and
their sync keys keep working.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
from psycopg import sql

from app.store.postgres_schema import migrate

# node_meta keys that describe the SQLite file, not the hub: the PostgreSQL database records
# its own at its first start (sync.identity), instead of taking itself for a copy of the file.
FILE_ONLY_META = ("seat", "restored_from_backup", "write_probe")
# The change log's rows keep their seq; all of them carry this copy's transaction id, and the
# feed maps a cursor handed out by the SQLite hub (epoch, seq) onto (that id, seq).
FEED_ORIGIN_TX = "feed_origin_tx"


class CopyRefused(Exception):
    """The copy cannot be made; the message says why and what to do. Nothing was written."""


def copy_sqlite_hub(sqlite_path: str, url: str) -> dict[str, int]:
    """Copy every table of the SQLite hub at `sqlite_path` into the database at `url`.

    The target must be new (no hub in it yet). Returns the rows copied per table.
    """
    if not Path(sqlite_path).is_file():
        raise CopyRefused(f"No SQLite database at {sqlite_path}.")
    migrate(url)
    source = sqlite3.connect(f"file:{Path(sqlite_path).resolve()}?mode=ro", uri=True)
    try:
        source.execute("BEGIN")  # one snapshot of the file, even if something writes meanwhile
        with psycopg.connect(url) as target:  # one transaction: rolled back on any failure
            _refuse_unless_empty(target)
            counts = {
                table: _copy_table(source, target, table) for table in _tables(source, target)
            }
            _continue_sequences(target)
            target.execute("DELETE FROM node_meta WHERE key = ANY(%s)", [list(FILE_ONLY_META)])
            target.execute(
                "INSERT INTO node_meta (key, value) VALUES (%s, pg_current_xact_id()::text)",
                [FEED_ORIGIN_TX],
            )
            _check_counts(target, counts)
        return counts
    except sqlite3.DatabaseError as error:
        raise CopyRefused(
            f"{sqlite_path} could not be read ({error}); nothing was kept. Check the file with "
            f"booking doctor --db {sqlite_path}, or copy its newest good backup."
        ) from None
    except psycopg.Error as error:
        raise CopyRefused(
            f"The copy into PostgreSQL stopped ({_first_line(error)}); nothing was kept. Run the "
            "same command again once the database answers."
        ) from None
    finally:
        source.close()


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _refuse_unless_empty(target: psycopg.Connection) -> None:
    if target.execute("SELECT COUNT(*) FROM node_meta").fetchone()[0]:
        raise CopyRefused(
            "The PostgreSQL database already holds a hub; copy into a new, empty database "
            "(createdb NAME), so that nothing of either hub is overwritten."
        )


def _tables(source: sqlite3.Connection, target: psycopg.Connection) -> list[str]:
    """The tables both have (every table of ours; not each tool's own bookkeeping)."""
    in_file = {
        name
        for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not name.startswith(("sqlite_", "_sqlite"))
    }
    in_target = {
        name
        for (name,) in target.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name <> 'alembic_version'"
        )
    }
    missing = in_file - in_target
    if missing:
        raise CopyRefused(
            f"The SQLite file has tables this version cannot place: {', '.join(sorted(missing))}. "
            "Copy it with the version of booking that made it."
        )
    return sorted(in_file)


def _copy_table(source: sqlite3.Connection, target: psycopg.Connection, table: str) -> int:
    columns = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    try:
        with target.cursor().copy(statement) as copy:
            for row in source.execute(f'SELECT {", ".join(columns)} FROM "{table}"'):
                copy.write_row(row)
                count += 1
    except psycopg.DataError as error:  # a value PostgreSQL cannot hold, such as a NUL in text
        raise CopyRefused(
            f"A row of {table} cannot be stored in PostgreSQL ({_first_line(error)}); nothing "
            "was kept. Correct that row in the SQLite hub (with its server running, through "
            "the API or the pages) and copy again."
        ) from None
    return count


def _continue_sequences(target: psycopg.Connection) -> None:
    """New change-log rows take seq values past the copied ones."""
    target.execute(
        "SELECT setval(pg_get_serial_sequence('change_log', 'seq'), "
        "GREATEST((SELECT MAX(seq) FROM change_log), 1), "
        "(SELECT MAX(seq) FROM change_log) IS NOT NULL)"
    )


def _check_counts(target: psycopg.Connection, counts: dict[str, int]) -> None:
    for table, expected in counts.items():
        if table == "node_meta":
            continue  # the file-only keys left, the feed's origin came
        query = sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))
        held = target.execute(query).fetchone()[0]
        if held != expected:
            raise CopyRefused(
                f"Copied {expected} rows of {table} but the database holds {held}; "
                "nothing was kept."
            )
