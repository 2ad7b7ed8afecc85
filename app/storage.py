"""All SQL for the app's tables, the connections, and the transaction every write runs in.

Nothing here knows HTTP. Each write function appends its change-log row (sync.changelog) in the
caller's transaction, so a write and its change commit together or not at all.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from app.errors import ApiError, NotFound
from app.ids import new_node_id
from migrations.migrations import migrations
from sync import changelog

BUSY_TIMEOUT_MS = 5000


class StorageError(Exception):
    """The database file cannot be opened or created; the message is fit for a person."""


def open_db(path: str) -> Database:
    """A new connection for this thread: foreign keys on, busy timeout, WAL-friendly sync."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    db = Database(conn, strict=True, execute_plugins=False)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # In WAL mode NORMAL never corrupts and survives any process crash; see README § Durability.
    db.execute("PRAGMA synchronous = NORMAL")
    db.write_lock = _write_lock_for(path)  # type: ignore[attr-defined]
    return db


def init_database(path: str) -> str:
    """Create (with parent folders) or migrate the database at `path`; return its node id."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = open_db(path)
    except (OSError, sqlite3.Error) as error:
        raise StorageError(f"Cannot open the database at {path}: {_reason(error)}.") from error
    try:
        migrate(db)
        return node_id(db)
    except sqlite3.Error as error:
        raise StorageError(f"Cannot prepare the database at {path}: {_reason(error)}.") from error
    finally:
        db.close()


def _reason(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.rstrip(".").lower()


def migrate(db: Database) -> None:
    """Apply pending migrations and give a new database its node id and cursor secret."""
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.enable_wal()  # persistent, and cannot run inside a transaction
    migrations.apply(db)
    with db.atomic():
        for key, make in (("node_id", new_node_id), ("cursor_secret", _new_secret)):
            db.execute(
                "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [key, make()],
            )


def _new_secret() -> str:
    return secrets.token_hex(32)


def meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM node_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def node_id(db: Database) -> str:
    value = meta(db, "node_id")
    assert value, "database not migrated"
    return value


# One connection per (thread, database): waitress keeps its threads, so connections are reused.
_local = threading.local()


def connection(path: str) -> Database:
    """This thread's connection to the database at `path` (opened on first use)."""
    pool: dict[str, Database] = _local.__dict__.setdefault("pool", {})
    db = pool.get(path)
    if db is None:
        db = pool[path] = open_db(path)
    return db


def close_thread_connections() -> None:
    for db in _local.__dict__.pop("pool", {}).values():
        db.close()


# Writers to one file queue on a Python lock rather than on SQLite's busy handler, whose sleeps
# turn contention into latency spikes. BEGIN IMMEDIATE still guards against other processes.
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock_for(path: str) -> threading.Lock:
    with _write_locks_guard:
        return _write_locks.setdefault(os.path.realpath(path), threading.Lock())


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One write unit. BEGIN IMMEDIATE takes the write lock now, so reads inside it are current.

    Nested sqlite-utils calls and db.atomic() become savepoints; only this commits.
    """
    with db.write_lock:  # type: ignore[attr-defined]
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        else:
            db.commit()


def _require_transaction(db: Database) -> None:
    assert db.conn.in_transaction, "storage writes must run inside storage.transaction()"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _rows(db: Database, sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- API keys (node-local: never synced) -------------------------------------------------------


def insert_api_key(db: Database, key: dict[str, Any]) -> None:
    _require_transaction(db)
    db.execute(
        "INSERT INTO api_keys (id, name, secret_hash, scopes, rate_limit, tokens_remaining, "
        "created_at) VALUES (:id, :name, :secret_hash, :scopes, :rate_limit, "
        ":tokens_remaining, :created_at)",
        {**key, "scopes": _dumps(key["scopes"])},
    )


def _key_record(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "scopes": json.loads(row["scopes"])}


def get_api_key(db: Database, key_id: str) -> dict[str, Any] | None:
    rows = _rows(db, "SELECT * FROM api_keys WHERE id = ?", [key_id])
    return _key_record(rows[0]) if rows else None


def list_api_keys(db: Database) -> list[dict[str, Any]]:
    return [_key_record(row) for row in _rows(db, "SELECT * FROM api_keys ORDER BY id", [])]


def count_api_keys(db: Database) -> int:
    return db.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0]


def revoke_api_key(db: Database, key_id: str, now_ms: int) -> bool:
    _require_transaction(db)
    cursor = db.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now_ms, key_id]
    )
    return cursor.rowcount == 1


def spend_token(db: Database, key_id: str) -> int | None:
    """Take one token from a limited key; the balance left, or None when it was already 0."""
    with transaction(db):
        row = db.execute(
            "UPDATE api_keys SET tokens_remaining = tokens_remaining - 1 "
            "WHERE id = ? AND tokens_remaining > 0 RETURNING tokens_remaining",
            [key_id],
        ).fetchone()
    return None if row is None else row[0]


# --- customers ----------------------------------------------------------------------------------

CUSTOMER_JSON_COLUMNS = ("tags", "metadata")


def _decode(row: dict[str, Any], json_columns: tuple[str, ...]) -> dict[str, Any]:
    for column in json_columns:
        if row.get(column) is not None:
            row[column] = json.loads(row[column])
    return row


def _encode(record: dict[str, Any], json_columns: tuple[str, ...]) -> dict[str, Any]:
    return {
        name: _dumps(value) if name in json_columns and value is not None else value
        for name, value in record.items()
    }


def _insert(
    db: Database, table: str, record: dict[str, Any], json_columns: tuple[str, ...]
) -> None:
    row = _encode(record, json_columns)
    columns = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)


def _update(
    db: Database, table: str, record_id: str, changes: dict[str, Any], json_columns: tuple[str, ...]
) -> None:
    row = _encode(changes, json_columns)
    assignments = ", ".join(f"{name} = :{name}" for name in row)
    db.execute(f"UPDATE {table} SET {assignments} WHERE id = :_id", {**row, "_id": record_id})


def _get(
    db: Database, table: str, record_id: str, json_columns: tuple[str, ...], missing: type[ApiError]
) -> dict[str, Any]:
    rows = _rows(db, f"SELECT * FROM {table} WHERE id = ?", [record_id])
    if not rows:
        raise missing(f"No {table[:-1]} has the id {record_id!r}.")
    return _decode(rows[0], json_columns)


def insert_customer(db: Database, customer: dict[str, Any]) -> None:
    """Insert a customer and its `upsert` change (all fields). Call inside transaction()."""
    _require_transaction(db)
    _insert(db, "customers", customer, CUSTOMER_JSON_COLUMNS)
    changelog.append(db, "customer", customer["id"], "upsert", customer)


def get_customer(db: Database, customer_id: str, missing: type[ApiError] = NotFound) -> dict:
    return _get(db, "customers", customer_id, CUSTOMER_JSON_COLUMNS, missing)


def update_customer(db: Database, customer_id: str, changes: dict[str, Any]) -> None:
    """Write the changed fields and an `upsert` change carrying only them."""
    _require_transaction(db)
    _update(db, "customers", customer_id, changes, CUSTOMER_JSON_COLUMNS)
    changelog.append(db, "customer", customer_id, "upsert", changes)


def delete_customer(db: Database, customer_id: str) -> None:
    """Remove a customer for good and record the tombstone."""
    _require_transaction(db)
    db.execute("DELETE FROM customers WHERE id = ?", [customer_id])
    changelog.append(db, "customer", customer_id, "delete", {})


def list_customers(
    db: Database,
    *,
    after_id: str | None,
    limit: int,
    email: str | None = None,
    q: str | None = None,
    tags: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Customers in id (creation) order after `after_id`; up to `limit` rows."""
    where, params = ["1 = 1"], []
    if after_id is not None:
        where.append("id > ?")
        params.append(after_id)
    if email is not None:
        where.append("lower(email) = lower(?)")
        params.append(email)
    if q:
        searched = ("name", "email", "phone", "external_id")
        where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in searched) + ")")
        params.extend([_like(q)] * len(searched))
    for tag in tags or []:
        where.append("EXISTS (SELECT 1 FROM json_each(customers.tags) WHERE value = ?)")
        params.append(tag)
    sql = f"SELECT * FROM customers WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    rows = _rows(db, sql, [*params, limit])
    return [_decode(row, CUSTOMER_JSON_COLUMNS) for row in rows]


# --- resources ----------------------------------------------------------------------------------

RESOURCE_JSON_COLUMNS = ("business_hours", "metadata")


def insert_resource(db: Database, resource: dict[str, Any]) -> None:
    _require_transaction(db)
    _insert(db, "resources", resource, RESOURCE_JSON_COLUMNS)
    changelog.append(db, "resource", resource["id"], "upsert", resource)


def get_resource(db: Database, resource_id: str, missing: type[ApiError] = NotFound) -> dict:
    return _get(db, "resources", resource_id, RESOURCE_JSON_COLUMNS, missing)


def update_resource(db: Database, resource_id: str, changes: dict[str, Any]) -> None:
    _require_transaction(db)
    _update(db, "resources", resource_id, changes, RESOURCE_JSON_COLUMNS)
    changelog.append(db, "resource", resource_id, "upsert", changes)


def delete_resource(db: Database, resource_id: str) -> None:
    _require_transaction(db)
    db.execute("DELETE FROM resources WHERE id = ?", [resource_id])
    changelog.append(db, "resource", resource_id, "delete", {})


def list_resources(
    db: Database, *, after_id: str | None, limit: int, q: str | None = None
) -> list[dict[str, Any]]:
    where, params = ["1 = 1"], []
    if after_id is not None:
        where.append("id > ?")
        params.append(after_id)
    if q:
        where.append("name LIKE ? ESCAPE '\\'")
        params.append(_like(q))
    sql = f"SELECT * FROM resources WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
    return [_decode(row, RESOURCE_JSON_COLUMNS) for row in _rows(db, sql, [*params, limit])]


def count_rows(db: Database, table: str) -> int:
    assert table.isidentifier()
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
