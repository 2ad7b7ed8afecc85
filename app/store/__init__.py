"""All SQL for the app's tables, the connections, and the transaction every write runs in.

Nothing here knows HTTP. Each write function appends its change-log row (app.store.changelog) in the
caller's transaction, so a write and its change commit together or not at all.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from app.core import clock, json_codec
from app.core.ids import new_node_id
from app.core.vocabulary import ACTIVE_STATUSES, MAX_BOOKING_MINUTES, MINUTE_MS
from app.store import changelog
from migrations.migrations import migrations

BUSY_TIMEOUT_MS = 5000
CHECKPOINT_INTERVAL_S = 0.25
# While a Checkpointer runs, a COMMIT checkpoints only if the WAL outgrows this (about 40 MB).
BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000

log = logging.getLogger(__name__)


class RowMissing(LookupError):
    """No row has the id asked for. The web layer answers it as 404 not_found; a caller that
    means something else by it (a booking naming an unknown resource) passes `missing=`."""

    code = "not_found"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


_checkpointed_paths: set[str] = set()  # database files a Checkpointer is looking after


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
    if os.path.realpath(path) in _checkpointed_paths:
        db.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_AUTOCHECKPOINT_PAGES}")
    db.write_gate = _write_gate_for(path)  # type: ignore[attr-defined]
    return db


# Run inside migrate()'s transaction to decide whether this file is the replica it says it is
# (a restored or copied file takes a new node id before it writes anything; SYNC.md §3a).
# The sync layer owns that decision: sync.identity.init_database passes it in.
Settle = Callable[[Database], None]


def init_database(path: str, settle: Settle) -> str:
    """Create (with parent folders) or migrate the database at `path`; return its node id."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = open_db(path)
    except (OSError, sqlite3.Error) as error:
        raise StorageError(f"Cannot open the database at {path}: {_reason(error)}.") from error
    try:
        migrate(db, settle)
        return node_id(db)
    except sqlite3.Error as error:
        raise StorageError(f"Cannot prepare the database at {path}: {_reason(error)}.") from error
    finally:
        db.close()


def _reason(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.rstrip(".").lower()


def migrate(db: Database, settle: Settle) -> None:
    """Apply pending migrations; give a database its node id, secrets and organization id.

    Missing node_meta keys are added on every run, so an older database gains new secrets.
    """
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.enable_wal()  # persistent, and cannot run inside a transaction
    migrations.apply(db)
    with db.atomic():
        for key, make in (
            ("node_id", new_node_id),
            ("cursor_secret", _new_secret),
            ("session_secret", _new_secret),  # signs the browser UI's session cookie
            ("organization_id", _new_uuid),
            ("epoch", new_node_id),
        ):
            db.execute(
                "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [key, make()],
            )
        settle(db)


def _new_secret() -> str:
    return secrets.token_hex(32)


def _new_uuid() -> str:
    return str(uuid.uuid4())


def meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM node_meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def former_node_ids(db: Database) -> list[str]:
    """The node ids this database had before it was restored or copied, oldest first."""
    return json.loads(meta(db, "former_node_ids") or "[]")


def mark_as_backup(db: Database) -> None:
    """Flag a fresh backup copy, so that when it is restored it takes a new identity."""
    with transaction(db):
        db.conn.execute(
            "INSERT OR REPLACE INTO node_meta (key, value) VALUES ('restored_from_backup', '1')"
        )


def node_id(db: Database) -> str:
    return changelog.local_node(db)


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
class _WriteGate:
    """One per database file: the lock its writers queue on, and what the last write ran into
    ("full", "read_only" or None), so /healthz can tell without writing on every call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.problem: str | None = None


_write_gates: dict[str, _WriteGate] = {}
_write_gates_guard = threading.Lock()


def _write_gate_for(path: str) -> _WriteGate:
    with _write_gates_guard:
        return _write_gates.setdefault(os.path.realpath(path), _WriteGate())


def storage_problem(error: BaseException) -> str | None:
    """ "full" or "read_only" when `error` is SQLite saying it cannot store anything now."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF  # extended codes (SQLITE_READONLY_DBMOVED, ...) share the low byte
    if primary == sqlite3.SQLITE_FULL:
        return "full"
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN):
        return "read_only"
    return None


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One write unit. BEGIN IMMEDIATE takes the write lock now, so reads inside it are current.

    Nested sqlite-utils calls and db.atomic() become savepoints; only this commits. A failed
    COMMIT (a full disk) rolls back too, so the connection is ready for the next request.
    """
    gate: _WriteGate = db.write_gate  # type: ignore[attr-defined]
    with gate.lock:
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            _commit(db)
        except sqlite3.Error as error:
            gate.problem = storage_problem(error) or gate.problem
            raise
        gate.problem = None


def _commit(db: Database) -> None:
    try:
        db.commit()
    except sqlite3.Error:
        # SQLite may already have rolled back (SQLITE_FULL); if not, nothing half-done stays.
        with suppress(sqlite3.Error):
            db.rollback()
        raise


def write_problem(db: Database) -> str | None:
    """None if the database took its last write; else "full" or "read_only", checked again now
    by a write of 64 KiB that is then undone, so /healthz sees space come back by itself."""
    gate: _WriteGate = db.write_gate  # type: ignore[attr-defined]
    if gate.problem is None or not gate.lock.acquire(blocking=False):
        return gate.problem  # all well, or a write is under way and will update the problem
    try:
        db.execute("BEGIN IMMEDIATE")
        db.conn.execute(
            "INSERT OR REPLACE INTO node_meta (key, value) VALUES ('write_probe', ?)",
            ["x" * 65_536],
        )
        db.conn.execute("DELETE FROM node_meta WHERE key = 'write_probe'")
        _commit(db)
        gate.problem = None
    except sqlite3.Error as error:
        with suppress(sqlite3.Error):
            db.rollback()
        gate.problem = storage_problem(error) or gate.problem
    finally:
        gate.lock.release()
    return gate.problem


class Checkpointer:
    """A daemon thread that checkpoints the WAL every CHECKPOINT_INTERVAL_S seconds.

    Left to itself, SQLite checkpoints (copies the WAL into the database file, with an fsync)
    inside whichever COMMIT takes the WAL past 1,000 pages: about every 80 booking creates,
    one request held the write lock 5-10 ms longer while every writer queued behind it
    waited. `booking serve` runs this instead, off the request path; sqlite3 lets go of the
    GIL while it works. PASSIVE checkpoints never wait for readers or writers, and their
    fsync means that under `synchronous=NORMAL` a commit is safe from power loss within a
    fraction of a second.
    """

    def __init__(self, path: str, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self._path = os.path.realpath(path)
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)

    def start(self) -> None:
        _checkpointed_paths.add(self._path)  # connections opened from now on leave it to us
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        _checkpointed_paths.discard(self._path)

    def _run(self) -> None:
        db = open_db(self._path)
        try:
            while not self._stopping.wait(self._interval_s):
                self._checkpoint(db)
            self._checkpoint(db)
        finally:
            db.close()

    @staticmethod
    def _checkpoint(db: Database) -> None:
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:  # the next round tries again; the WAL keeps every commit
            log.warning("WAL checkpoint failed: %s", error)


# Below, statements go straight to sqlite3: they run inside transaction() (or are reads),
# so sqlite-utils' per-call autocommit bookkeeping is only overhead on the hot path.


def _require_transaction(db: Database) -> None:
    assert db.conn.in_transaction, "storage writes must run inside storage.transaction()"


# Canonical: a record written here and its copy merged on another node must be byte-identical.
_dumps = json_codec.dumps


def _rows(db: Database, sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- API keys (node-local: never synced) -------------------------------------------------------

# Every request reads its key, so a connection keeps the keys it has read. PRAGMA data_version
# moves whenever another connection commits (another thread, the CLI, any process), which
# empties the cache; this connection's own key writes below empty it too. So a revoked key is
# refused from the next request on, and a token balance is never read stale.


def _key_cache(db: Database) -> dict[str, dict[str, Any]]:
    (version,) = db.conn.execute("PRAGMA data_version").fetchone()
    cached = getattr(db, "booking_keys", None)
    if cached is None or cached[0] != version:
        cached = db.booking_keys = (version, {})  # type: ignore[attr-defined]
    return cached[1]


def _forget_keys(db: Database) -> None:
    db.booking_keys = None  # type: ignore[attr-defined]


def insert_api_key(db: Database, key: dict[str, Any]) -> None:
    _require_transaction(db)
    _forget_keys(db)
    db.conn.execute(
        "INSERT INTO api_keys (id, name, secret_hash, scopes, rate_limit, tokens_remaining, "
        "created_at) VALUES (:id, :name, :secret_hash, :scopes, :rate_limit, "
        ":tokens_remaining, :created_at)",
        {**key, "scopes": _dumps(key["scopes"])},
    )


def _key_record(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "scopes": json.loads(row["scopes"])}


def get_api_key(db: Database, key_id: str) -> dict[str, Any] | None:
    cache = _key_cache(db)
    record = cache.get(key_id)
    if record is None:
        rows = _rows(db, "SELECT * FROM api_keys WHERE id = ?", [key_id])
        if not rows:
            return None  # not cached: unknown ids cost a query, never memory
        record = cache[key_id] = _key_record(rows[0])
    return dict(record)


def list_api_keys(db: Database) -> list[dict[str, Any]]:
    return [_key_record(row) for row in _rows(db, "SELECT * FROM api_keys ORDER BY id", [])]


def count_api_keys(db: Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM api_keys").fetchone()[0]


def revoke_api_key(db: Database, key_id: str, now_ms: int) -> bool:
    _require_transaction(db)
    _forget_keys(db)
    cursor = db.conn.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now_ms, key_id]
    )
    return cursor.rowcount == 1


# --- browser sessions (node-local: never synced) ------------------------------------------------


def insert_ui_session(db: Database, id_hash: str, key_id: str, now_ms: int, expired: int) -> None:
    """Record a sign-in; drop sessions made before `expired` (browsers that never signed out)."""
    _require_transaction(db)
    db.conn.execute("DELETE FROM ui_sessions WHERE created_at < ?", [expired])
    db.conn.execute(
        "INSERT INTO ui_sessions (id_hash, key_id, created_at) VALUES (?, ?, ?)",
        [id_hash, key_id, now_ms],
    )


def ui_session_key(db: Database, id_hash: str, expired: int) -> str | None:
    """The key id a live session signed in with, or None (signed out, expired or unknown)."""
    row = db.conn.execute(
        "SELECT key_id FROM ui_sessions WHERE id_hash = ? AND created_at >= ?", [id_hash, expired]
    ).fetchone()
    return row[0] if row else None


def delete_ui_session(db: Database, id_hash: str) -> None:
    _require_transaction(db)
    db.conn.execute("DELETE FROM ui_sessions WHERE id_hash = ?", [id_hash])


def spend_token(db: Database, key_id: str) -> int | None:
    """Take one token from a limited key; the balance left, or None when it was already 0."""
    _forget_keys(db)
    with transaction(db):
        row = db.conn.execute(
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
    db.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)


def _update(
    db: Database, table: str, record_id: str, changes: dict[str, Any], json_columns: tuple[str, ...]
) -> None:
    row = _encode(changes, json_columns)
    assignments = ", ".join(f"{name} = :{name}" for name in row)
    db.conn.execute(f"UPDATE {table} SET {assignments} WHERE id = :_id", {**row, "_id": record_id})


def _get(
    db: Database,
    table: str,
    record_id: str,
    json_columns: tuple[str, ...],
    missing: Callable[[str], Exception],
) -> dict[str, Any]:
    rows = _rows(db, f"SELECT * FROM {table} WHERE id = ?", [record_id])
    if not rows:
        raise missing(f"No {table[:-1]} has the id {record_id!r}.")
    return _decode(rows[0], json_columns)


def insert_customer(db: Database, customer: dict[str, Any]) -> None:
    """Insert a customer and its `upsert` change (all fields). Call inside transaction()."""
    upsert_local(db, "customer", customer["id"], customer, new=True)


def get_customer(
    db: Database, customer_id: str, missing: Callable[[str], Exception] = RowMissing
) -> dict:
    return _get(db, "customers", customer_id, CUSTOMER_JSON_COLUMNS, missing)


def update_customer(db: Database, customer_id: str, changes: dict[str, Any]) -> None:
    """Write the changed fields and an `upsert` change carrying only them."""
    upsert_local(db, "customer", customer_id, changes)


def delete_customer(db: Database, customer_id: str) -> None:
    """Remove a customer for good and record the tombstone."""
    delete_local(db, "customer", customer_id)


def organization_id(db: Database) -> str:
    """This database's ShingleAI organization id (a UUID made once by migrate())."""
    value = meta(db, "organization_id")
    assert value, "database not migrated"
    return value


def count_customers(db: Database) -> int:
    """How many customers are not soft-deleted."""
    return db.conn.execute("SELECT COUNT(*) FROM customers WHERE deleted_at IS NULL").fetchone()[0]


def list_customers(
    db: Database,
    *,
    after_id: str | None,
    limit: int,
    offset: int = 0,
    email: str | None = None,
    q: str | None = None,
    tags: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Customers in id (creation) order after `after_id`, skipping `offset`; up to `limit` rows.

    Soft-deleted customers (ShingleAI DELETE) are left out of every list.
    """
    where, params = ["deleted_at IS NULL"], []
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
    sql = f"SELECT * FROM customers WHERE {' AND '.join(where)} ORDER BY id LIMIT ? OFFSET ?"
    rows = _rows(db, sql, [*params, limit, offset])
    return [_decode(row, CUSTOMER_JSON_COLUMNS) for row in rows]


# --- resources ----------------------------------------------------------------------------------

RESOURCE_JSON_COLUMNS = ("business_hours", "metadata")


def insert_resource(db: Database, resource: dict[str, Any]) -> None:
    upsert_local(db, "resource", resource["id"], resource, new=True)


def get_resource(
    db: Database, resource_id: str, missing: Callable[[str], Exception] = RowMissing
) -> dict:
    return _get(db, "resources", resource_id, RESOURCE_JSON_COLUMNS, missing)


def update_resource(db: Database, resource_id: str, changes: dict[str, Any]) -> None:
    upsert_local(db, "resource", resource_id, changes)


def delete_resource(db: Database, resource_id: str) -> None:
    delete_local(db, "resource", resource_id)


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
    return db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# --- bookings and their events -----------------------------------------------------------------

BOOKING_JSON_COLUMNS = ("metadata",)
EVENT_JSON_COLUMNS = ("data",)
# Bookings last at most a day, so an overlap query only looks this far back from its window:
# that keeps every window query on the (resource_id, start_time) / (start_time, id) indexes.
MAX_BOOKING_MS = MAX_BOOKING_MINUTES * MINUTE_MS
_ACTIVE_SQL = f"status IN ({', '.join(repr(status) for status in ACTIVE_STATUSES)})"


def _event_row(event: dict[str, Any], node: str, hlc: str) -> dict[str, Any]:
    row = {**event, "node_id": node, "hlc": hlc, "applied": int(event["applied"])}
    return _encode(row, EVENT_JSON_COLUMNS)


def _record_event(db: Database, event: dict[str, Any], *, first: bool = False) -> None:
    """Stamp the event with this node's clock, store it and its change row.

    A new event must sort after every event its booking already has, or replaying the
    history elsewhere would not give the state stored here. Our clock is past every stamp it
    adopted, but not past a suspect one (SYNC.md §1): such a stamp is stepped over for this
    event only, without dragging our clock forward. The `first` event of a booking made here
    has nothing to step over: its id is new.
    """
    hlc = changelog.next_hlc(db)
    if not first:
        (latest,) = db.conn.execute(
            "SELECT MAX(hlc) FROM booking_events WHERE booking_id = ?", [event["booking_id"]]
        ).fetchone()
        if latest is not None and latest >= hlc:
            hlc = clock.tick(latest, node_id(db), 0)
    event["hlc"], event["node_id"] = hlc, node_id(db)
    row = _event_row(event, event["node_id"], hlc)
    columns = ", ".join(row)
    db.conn.execute(
        f"INSERT INTO booking_events ({columns}) VALUES ({', '.join(':' + c for c in row)})", row
    )
    payload = {k: v for k, v in event.items() if k not in ("hlc", "applied", "anomaly")}
    changelog.append(db, "booking_event", event["id"], "event", payload, hlc=hlc)


def insert_booking(db: Database, booking: dict[str, Any], event: dict[str, Any]) -> None:
    """Insert a booking (the state its `created` event leads to), the event and its change."""
    _require_transaction(db)
    _insert(db, "bookings", booking, BOOKING_JSON_COLUMNS)
    _record_event(db, event, first=True)


def append_booking_event(db: Database, booking: dict[str, Any], event: dict[str, Any]) -> None:
    """Store a new event of an existing booking and the state it leads to."""
    _require_transaction(db)
    _record_event(db, event)
    changes = {k: v for k, v in booking.items() if k != "id"}
    _update(db, "bookings", booking["id"], changes, BOOKING_JSON_COLUMNS)


def get_booking(
    db: Database, booking_id: str, missing: Callable[[str], Exception] = RowMissing
) -> dict:
    return _get(db, "bookings", booking_id, BOOKING_JSON_COLUMNS, missing)


def delete_booking(db: Database, booking_id: str) -> None:
    """Remove a booking and its events; the change is a tombstone for both."""
    delete_local(db, "booking", booking_id)


def _event_record(row: dict[str, Any]) -> dict[str, Any]:
    row = _decode(row, EVENT_JSON_COLUMNS)
    row["applied"] = bool(row["applied"])
    return row


def booking_events(
    db: Database, booking_id: str, *, after_hlc: str | None = None, limit: int = -1
) -> list[dict[str, Any]]:
    """A booking's events in event (HLC) order, after `after_hlc`."""
    rows = _rows(
        db,
        "SELECT * FROM booking_events WHERE booking_id = ? AND hlc > ? ORDER BY hlc LIMIT ?",
        [booking_id, after_hlc or "", limit],
    )
    return [_event_record(row) for row in rows]


def recent_booking_events(db: Database, booking_id: str, count: int) -> list[dict[str, Any]]:
    """The `count` most recent events, oldest first."""
    rows = _rows(
        db,
        "SELECT * FROM booking_events WHERE booking_id = ? ORDER BY hlc DESC LIMIT ?",
        [booking_id, count],
    )
    return [_event_record(row) for row in reversed(rows)]


def active_bookings_between(
    db: Database, resource_id: str, start: int, end: int
) -> list[dict[str, Any]]:
    """Active bookings of a resource overlapping [start, end), with what a clash names."""
    return _rows(
        db,
        "SELECT id, start_time, end_time, buffer_minutes, customer_id, title FROM bookings "
        "WHERE resource_id = ? "
        f"AND start_time >= ? AND start_time < ? AND end_time > ? AND {_ACTIVE_SQL}",
        [resource_id, start - MAX_BOOKING_MS, end, start],
    )


def active_bookings_from(db: Database, resource_id: str, start: int) -> list[dict[str, Any]]:
    """Active bookings of a resource that end after `start`."""
    return _rows(
        db,
        f"SELECT id, start_time, end_time FROM bookings WHERE resource_id = ? "
        f"AND start_time >= ? AND end_time > ? AND {_ACTIVE_SQL} ORDER BY start_time",
        [resource_id, start - MAX_BOOKING_MS, start],
    )


def has_future_active_bookings(db: Database, resource_id: str, now_ms: int) -> bool:
    row = db.conn.execute(
        f"SELECT 1 FROM bookings WHERE resource_id = ? AND start_time >= ? AND end_time > ? "
        f"AND {_ACTIVE_SQL} LIMIT 1",
        [resource_id, now_ms - MAX_BOOKING_MS, now_ms],
    ).fetchone()
    return row is not None


def list_bookings(
    db: Database,
    *,
    after: tuple[int, str] | None,
    limit: int,
    statuses: list[str] | None = None,
    resource_id: str | None = None,
    customer_id: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[dict[str, Any]]:
    """Bookings ordered by (start_time, id) after `after`, overlapping [start, end) if given."""
    where, params = ["1 = 1"], []
    if after is not None:
        where.append("(start_time, id) > (?, ?)")
        params.extend(after)
    if statuses:
        where.append(f"status IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    for column, value in (("resource_id", resource_id), ("customer_id", customer_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if start is not None:
        where.append("start_time >= ? AND end_time > ?")
        params.extend([start - MAX_BOOKING_MS, start])
    if end is not None:
        where.append("start_time < ?")
        params.append(end)
    sql = f"SELECT * FROM bookings WHERE {' AND '.join(where)} ORDER BY start_time, id LIMIT ?"
    return [_decode(row, BOOKING_JSON_COLUMNS) for row in _rows(db, sql, [*params, limit])]


# --- blockers -----------------------------------------------------------------------------------

BLOCKER_JSON_COLUMNS = ("recurrence", "metadata")


def insert_blocker(db: Database, blocker: dict[str, Any]) -> None:
    upsert_local(db, "blocker", blocker["id"], blocker, new=True)


def get_blocker(
    db: Database, blocker_id: str, missing: Callable[[str], Exception] = RowMissing
) -> dict:
    return _get(db, "blockers", blocker_id, BLOCKER_JSON_COLUMNS, missing)


def delete_blocker(db: Database, blocker_id: str) -> None:
    delete_local(db, "blocker", blocker_id)


def blockers_for_resource(db: Database, resource_id: str, *, before: int) -> list[dict]:
    """The resource's blockers whose first occurrence starts before `before`."""
    rows = _rows(
        db,
        "SELECT * FROM blockers WHERE resource_id = ? AND start_time < ? ORDER BY start_time",
        [resource_id, before],
    )
    return [_decode(row, BLOCKER_JSON_COLUMNS) for row in rows]


def iter_blockers(
    db: Database, *, after_id: str | None, resource_id: str | None, batch: int = 200
) -> Iterator[dict[str, Any]]:
    """Blockers in id order after `after_id`, fetched a batch at a time."""
    last = after_id or ""
    while True:
        where, params = ["id > ?"], [last]
        if resource_id is not None:
            where.append("resource_id = ?")
            params.append(resource_id)
        sql = f"SELECT * FROM blockers WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"
        rows = _rows(db, sql, [*params, batch])
        for row in rows:
            yield _decode(row, BLOCKER_JSON_COLUMNS)
        if len(rows) < batch:
            return
        last = rows[-1]["id"]


def resource_timezone(db: Database, resource_id: str) -> str:
    """The resource's time zone; UTC if it has been deleted (its blockers may outlive it)."""
    row = db.conn.execute("SELECT timezone FROM resources WHERE id = ?", [resource_id]).fetchone()
    return row[0] if row else "UTC"


# --- idempotency (node-local: never synced) ------------------------------------------------------


def get_idempotent(db: Database, api_key_id: str, key: str, since: int) -> dict | None:
    rows = _rows(
        db,
        "SELECT fingerprint, status, body FROM idempotency_keys "
        "WHERE api_key_id = ? AND key = ? AND created_at >= ?",
        [api_key_id, key, since],
    )
    return rows[0] if rows else None


def save_idempotent(db: Database, record: dict[str, Any], expired_before: int) -> None:
    """Remember a response for its Idempotency-Key, replacing an expired one."""
    with transaction(db):
        db.conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", [expired_before])
        db.conn.execute(
            "INSERT OR REPLACE INTO idempotency_keys "
            "(api_key_id, key, fingerprint, status, body, created_at) "
            "VALUES (:api_key_id, :key, :fingerprint, :status, :body, :created_at)",
            record,
        )


# --- sync: per-field last-writer-wins and tombstones (SYNC.md §5) ---------------------------------
# Local writes and remote changes go through the same two functions, so both keep every
# field's clock and every tombstone the same way.

LWW_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "customer": ("customers", CUSTOMER_JSON_COLUMNS),
    "resource": ("resources", RESOURCE_JSON_COLUMNS),
    "blocker": ("blockers", BLOCKER_JSON_COLUMNS),
    "service": ("services", ("resource_ids", "metadata")),  # app/store/services.py
    # Issue #18's shop configuration (app.store.outbound_config, webhooks, feeds).
    "message_template": ("message_templates", ()),
    "messaging_settings": ("messaging_settings", ("channels", "kinds", "reminder_minutes")),
    "webhook": ("webhook_subscriptions", ("events",)),
    "calendar_feed": ("calendar_feeds", ()),
}
# What a record holds before the change that creates it arrives (a later field may come
# first from another node); the creating change's older stamp still wins these fields.
PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "customer": {"name": "", "tags": [], "metadata": {}, "created_at": 0, "updated_at": 0},
    "resource": {
        "name": "", "timezone": "UTC", "default_duration_minutes": 60, "buffer_minutes": 0,
        "metadata": {}, "created_at": 0, "updated_at": 0,
    },
    "blocker": {
        "resource_id": "", "start_time": 0, "end_time": 0, "all_day": 0, "metadata": {},
        "created_at": 0, "updated_at": 0,
    },
    "service": {
        "name": "", "duration_minutes": 60, "price_minor": 0, "currency": "",
        "buffer_minutes": 0, "resource_ids": [], "metadata": {}, "created_at": 0, "updated_at": 0,
    },
    "message_template": {"kind": "", "channel": "", "body": "", "created_at": 0, "updated_at": 0},
    "messaging_settings": {"created_at": 0, "updated_at": 0},
    "webhook": {"url": "", "secret": "", "created_at": 0, "updated_at": 0},
    "calendar_feed": {"token_hash": "", "created_at": 0, "updated_at": 0},
}  # fmt: skip
_columns_cache: dict[str, frozenset[str]] = {}


def _columns(db: Database, table: str) -> frozenset[str]:
    if table not in _columns_cache:
        rows = db.conn.execute(f"PRAGMA table_info({table})").fetchall()
        _columns_cache[table] = frozenset(row[1] for row in rows)
    return _columns_cache[table]


def is_tombstoned(db: Database, entity: str, entity_id: str) -> bool:
    row = db.conn.execute(
        "SELECT 1 FROM tombstones WHERE entity = ? AND entity_id = ?", [entity, entity_id]
    ).fetchone()
    return row is not None


def apply_fields(
    db: Database, entity: str, record_id: str, values: dict[str, Any], hlc: str
) -> dict[str, Any]:
    """Set each field whose clock is older than `hlc` (creating the record if needed).

    Returns the fields written. A tombstoned record takes nothing: deletes win.
    """
    _require_transaction(db)
    if is_tombstoned(db, entity, record_id):
        return {}
    table, json_columns = LWW_TABLES[entity]
    row = db.conn.execute(f"SELECT field_clocks FROM {table} WHERE id = ?", [record_id]).fetchone()
    clocks: dict[str, str] = json.loads(row[0]) if row else {}
    known = _columns(db, table)
    winners = {
        name: value
        for name, value in values.items()
        if name in known and name not in ("id", "field_clocks") and hlc > clocks.get(name, "")
    }
    if not winners:
        return {}
    clocks.update(dict.fromkeys(winners, hlc))
    encoded = (*json_columns, "field_clocks")
    if row is None:
        record = {**PLACEHOLDERS[entity], **winners, "id": record_id, "field_clocks": clocks}
        _insert(db, table, record, encoded)
    else:
        _update(db, table, record_id, {**winners, "field_clocks": clocks}, encoded)
    return winners


def apply_fields_many(db: Database, upserts: list[tuple[str, str, dict[str, Any], str]]) -> None:
    """apply_fields for each (entity, record_id, values, hlc) in order, with no delete between
    them: tombstones and field clocks are read in a few queries, and each record is written
    once, with statements of the same shape batched."""
    _require_transaction(db)
    by_entity: dict[str, list[tuple[str, str, dict[str, Any], str]]] = {}
    for upsert in upserts:
        by_entity.setdefault(upsert[0], []).append(upsert)
    for entity, group in by_entity.items():
        table, json_columns = LWW_TABLES[entity]
        ids = list(dict.fromkeys(record_id for _, record_id, _, _ in group))
        dead: set[str] = set()
        clocks: dict[str, dict[str, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            dead.update(
                row[0]
                for row in db.conn.execute(
                    f"SELECT entity_id FROM tombstones WHERE entity = ? AND entity_id IN ({marks})",
                    [entity, *chunk],
                )
            )
            clocks.update(
                (row[0], json_codec.loads(row[1]))
                for row in db.conn.execute(
                    f"SELECT id, field_clocks FROM {table} WHERE id IN ({marks})", chunk
                )
            )
        existing = set(clocks)
        settable = _columns(db, table) - {"id", "field_clocks"}
        pending: dict[str, dict[str, Any]] = {}
        for _, record_id, values, hlc in group:
            if record_id in dead:
                continue
            record_clocks = clocks.get(record_id)
            if record_clocks is None:  # a record new to this node: every field it sends wins
                winners = {name: value for name, value in values.items() if name in settable}
                clocks[record_id] = dict.fromkeys(winners, hlc)
                if winners:
                    pending[record_id] = winners
                continue
            winners = {
                name: value
                for name, value in values.items()
                if name in settable and hlc > record_clocks.get(name, "")
            }
            if winners:
                record_clocks.update(dict.fromkeys(winners, hlc))
                pending.setdefault(record_id, {}).update(winners)
        inserts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for record_id, fields in pending.items():
            # Built and encoded in place (_encode would copy each row twice more).
            if record_id in existing:
                row = {**fields, "_id": record_id}
            else:
                row = {**PLACEHOLDERS[entity], **fields, "id": record_id}
            for column in json_columns:
                if row.get(column) is not None:
                    row[column] = _dumps(row[column])
            row["field_clocks"] = _dumps(clocks[record_id])
            (updates if record_id in existing else inserts).setdefault(tuple(row), []).append(row)
        for columns, rows in inserts.items():
            db.conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)})",
                rows,
            )
        for columns, rows in updates.items():
            assignments = ", ".join(f"{name} = :{name}" for name in columns if name != "_id")
            db.conn.executemany(f"UPDATE {table} SET {assignments} WHERE id = :_id", rows)


def apply_delete(db: Database, entity: str, entity_id: str, hlc: str) -> None:
    """Delete the record (a booking with its events) and keep a tombstone that always wins."""
    _require_transaction(db)
    db.conn.execute(
        "INSERT INTO tombstones (entity, entity_id, hlc) VALUES (?, ?, ?) "
        "ON CONFLICT (entity, entity_id) DO UPDATE SET hlc = min(hlc, excluded.hlc)",
        [entity, entity_id, hlc],
    )
    if entity == "booking":
        db.conn.execute("DELETE FROM booking_events WHERE booking_id = ?", [entity_id])
        db.conn.execute("DELETE FROM bookings WHERE id = ?", [entity_id])
    else:
        db.conn.execute(f"DELETE FROM {LWW_TABLES[entity][0]} WHERE id = ?", [entity_id])


def upsert_local(
    db: Database, entity: str, record_id: str, values: dict[str, Any], *, new: bool = False
) -> None:
    """A local create or edit plus its change: every sent field wins, even over a value stamped
    ahead of our clock by a fast-clocked laptop (changelog.stamp_past)."""
    _require_transaction(db)
    # A new record has no value to step past; an edit may (changelog.stamp_past).
    current = None if new else _newest_field_clock(db, entity, record_id, values)
    hlc = changelog.stamp_past(db, current)
    apply_fields(db, entity, record_id, values, hlc)
    changelog.append(db, entity, record_id, "upsert", values, hlc=hlc)


def _newest_field_clock(
    db: Database, entity: str, record_id: str, values: dict[str, Any]
) -> str | None:
    """The newest stamp among the fields `values` sets on the record (None for a new one)."""
    clocks = field_clocks(db, entity, record_id)
    return max((clocks[name] for name in values if name in clocks), default=None)


def field_clocks(db: Database, entity: str, record_id: str) -> dict[str, str]:
    """The stamp of the change that last set each field of the record ({} if none)."""
    table = LWW_TABLES[entity][0]
    row = db.conn.execute(f"SELECT field_clocks FROM {table} WHERE id = ?", [record_id]).fetchone()
    return json_codec.loads(row[0]) if row else {}


def has_event_stamped_between(db: Database, booking_id: str, low: str, high: str) -> bool:
    row = db.conn.execute(
        "SELECT 1 FROM booking_events WHERE booking_id = ? AND hlc > ? AND hlc < ? LIMIT 1",
        [booking_id, low, high],
    ).fetchone()
    return row is not None


def delete_local(db: Database, entity: str, record_id: str) -> None:
    _require_transaction(db)
    hlc = changelog.next_hlc(db)
    apply_delete(db, entity, record_id, hlc)
    changelog.append(db, entity, record_id, "delete", {}, hlc=hlc)


def insert_remote_event(db: Database, event: dict[str, Any], hlc: str) -> bool:
    """Keep another node's booking event; False when it was already held as it is.

    One event can arrive under two stamps: a copied laptop re-issues the writes the hub had
    not confirmed, and the original may send them too (SYNC.md §3a). Every replica keeps the
    lower stamp, so all replay the same history.
    """
    _require_transaction(db)
    row = _event_row({"applied": True, "anomaly": None, **event}, event["node_id"], hlc)
    row = {name: row.get(name) for name in _EVENT_COLUMNS}
    cursor = db.conn.execute(
        f"INSERT INTO booking_events ({', '.join(row)}) "
        f"VALUES ({', '.join(':' + c for c in row)}) "
        "ON CONFLICT (id) DO UPDATE SET hlc = excluded.hlc, node_id = excluded.node_id "
        "WHERE excluded.hlc < booking_events.hlc",
        row,
    )
    return cursor.rowcount == 1


_EVENT_COLUMNS = (
    "id", "booking_id", "type", "from_status", "to_status", "actor", "data", "occurred_at",
    "node_id", "hlc", "applied", "anomaly",
)  # fmt: skip


def save_replayed_booking(
    db: Database, booking_id: str, state: dict[str, Any] | None, anomalies: dict[str, str]
) -> None:
    """Store what replaying a booking's events gave: its row, and each event's outcome."""
    _require_transaction(db)
    db.conn.execute(
        "UPDATE booking_events SET applied = 1, anomaly = NULL WHERE booking_id = ?", [booking_id]
    )
    for event_id, reason in anomalies.items():
        db.conn.execute(
            "UPDATE booking_events SET applied = 0, anomaly = ? WHERE id = ?", [reason, event_id]
        )
    db.conn.execute("DELETE FROM bookings WHERE id = ?", [booking_id])
    if state is not None:
        _insert(db, "bookings", state, BOOKING_JSON_COLUMNS)


def overlapping_active(db: Database, booking: dict[str, Any]) -> list[dict[str, Any]]:
    """Other active bookings of the same resource whose time overlaps this one's."""
    return _rows(
        db,
        f"SELECT id, status, start_time, end_time FROM bookings WHERE resource_id = ? "
        f"AND id != ? AND start_time >= ? AND start_time < ? AND end_time > ? AND {_ACTIVE_SQL} "
        "ORDER BY start_time, id",
        [
            booking["resource_id"], booking["id"], booking["start_time"] - MAX_BOOKING_MS,
            booking["end_time"], booking["start_time"],
        ],
    )  # fmt: skip


def unapplied_events(db: Database) -> list[dict[str, Any]]:
    rows = _rows(db, "SELECT * FROM booking_events WHERE applied = 0 ORDER BY hlc", [])
    return [_event_record(row) for row in rows]


def insert_anomaly(db: Database, anomaly: dict[str, Any]) -> bool:
    _require_transaction(db)
    columns = ("id", "kind", "booking_id", "other_booking_id", "message", "hlc")
    cursor = db.conn.execute(
        f"INSERT OR IGNORE INTO anomalies ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})",
        {c: anomaly.get(c) for c in columns},
    )
    return cursor.rowcount == 1


def anomaly_records(db: Database) -> list[dict[str, Any]]:
    return _rows(db, "SELECT * FROM anomalies ORDER BY hlc, id", [])


# --- sync state (node-local) and the hub's peers ----------------------------------------------


def sync_state(db: Database) -> dict[str, str | None]:
    return dict(db.conn.execute("SELECT key, value FROM sync_state").fetchall())


def set_sync_state(db: Database, **values: str | int | None) -> None:
    """Write sync-state keys in the caller's transaction (or in their own one)."""
    rows = [(key, None if value is None else str(value)) for key, value in values.items()]
    sql = (
        "INSERT INTO sync_state (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
    if db.conn.in_transaction:
        db.conn.executemany(sql, rows)
    else:
        with transaction(db):
            db.conn.executemany(sql, rows)


def peer_acked(db: Database, node: str) -> int:
    row = db.conn.execute("SELECT acked_through FROM sync_peers WHERE node_id = ?", [node])
    found = row.fetchone()
    return found[0] if found else 0


def set_peer_acked(db: Database, node: str, acked: int) -> None:
    _require_transaction(db)
    db.conn.execute(
        "INSERT INTO sync_peers (node_id, acked_through) VALUES (?, ?) "
        "ON CONFLICT (node_id) DO UPDATE SET acked_through = excluded.acked_through",
        [node, acked],
    )


def sync_key_binding(db: Database, key_id: str) -> tuple[str | None, str | None, int | None]:
    """The node a sync key is bound to, its lineage hash, and when that node last pushed new
    changes with it; read now, not from the cache."""
    row = db.conn.execute(
        "SELECT node_id, lineage_hash, pushed_at FROM api_keys WHERE id = ?", [key_id]
    ).fetchone()
    return (row[0], row[1], row[2]) if row else (None, None, None)


def note_sync_key_push(db: Database, key_id: str, at_ms: int) -> None:
    _require_transaction(db)
    _forget_keys(db)
    db.conn.execute("UPDATE api_keys SET pushed_at = ? WHERE id = ?", [at_ms, key_id])


def bind_sync_key(db: Database, key_id: str, node: str, lineage_hash: str | None) -> None:
    """Bind the key to `node` (its first node, or a successor it moves to)."""
    _require_transaction(db)
    _forget_keys(db)
    db.conn.execute(
        "UPDATE api_keys SET node_id = ?, lineage_hash = COALESCE(lineage_hash, ?) WHERE id = ?",
        [node, lineage_hash, key_id],
    )


def record_sync_key_move(db: Database, key_id: str, old: str, new: str, at_ms: int) -> None:
    _require_transaction(db)
    db.conn.execute(
        "INSERT OR REPLACE INTO sync_key_moves (key_id, node_id, moved_to, moved_at) "
        "VALUES (?, ?, ?, ?)",
        [key_id, old, new, at_ms],
    )


def sync_key_moves(db: Database, key_id: str) -> dict[str, tuple[str, int]]:
    """The nodes this key moved away from: node id -> (the node it moved to, when)."""
    rows = db.conn.execute(
        "SELECT node_id, moved_to, moved_at FROM sync_key_moves WHERE key_id = ?", [key_id]
    ).fetchall()
    return {node: (moved_to, at) for node, moved_to, at in rows}
