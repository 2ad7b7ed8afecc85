"""Which backend a `--db` value names: a `postgresql://` URL, or else a SQLite file's path.

The app opens databases only through these, so everything above the store works on either.
"""

from __future__ import annotations

import threading

from app.store import postgres, postgres_schema, sqlite, sqlite_files
from app.store.connection import Connection

Settle = sqlite_files.Settle


def open_db(target: str) -> Connection:
    """A new connection to the database `target` names."""
    if postgres.is_postgres(target):
        return postgres.open_db(target)
    return sqlite.open_db(target)


def init_database(target: str, settle: Settle) -> str:
    """Create or migrate the database `target` names; its node id (CannotOpen if it cannot)."""
    if postgres.is_postgres(target):
        return postgres_schema.init_database(target, settle)
    return sqlite_files.init_database(target, settle)


_local = threading.local()


def connection(target: str) -> Connection:
    """This thread's connection to the database `target` names (opened on first use)."""
    if not postgres.is_postgres(target):
        return sqlite.connection(target)
    held: dict[str, Connection] = _local.__dict__.setdefault("held", {})
    db = held.get(target)
    if db is None:
        db = held[target] = postgres.open_db(target)
    return db


def close_thread_connections() -> None:
    sqlite.close_thread_connections()
    for db in _local.__dict__.pop("held", {}).values():
        db.close()
