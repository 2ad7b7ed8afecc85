"""Storage: every SQL statement, the connections, and the transaction every write runs in.

Callers write `from app import store`, open a connection with `store.open_db(path)` (or take
this thread's with `store.connection(path)`), and call `store.<function>(db, ...)`; every write
runs inside `with store.transaction(db):`, which nests as savepoints. Nothing here knows HTTP:
the store raises its own errors (errors.py), which the web layer maps to answers in one table.
Each write function appends its change-log row in the caller's transaction, so a write and its
change commit together or not at all.

Which module holds what:

- connection.py: the contract a backend keeps: `Connection` (statements, rows, transactions
  that nest, per-connection memory) and the `Dialect` of the few statements backends spell
  differently.
- sqlite.py: the SQLite backend: `open_db`, pragmas, the write gate, SQLite errors mapped.
- sqlite_files.py: SQLite files: `init_database` and migrations, the WAL `Checkpointer`.
- errors.py: RowMissing, CannotOpen, StorageFull, StorageUnavailable, ConstraintViolated.
- rows.py: which columns hold JSON, and the INSERT/UPDATE/SELECT by id the tables share.
- keys.py: API keys, token balances, browser sessions.
- customers.py, resources.py, blockers.py: the records synced field by field, through
  lww.py (per-field last-writer-wins and tombstones, for local writes and sync alike).
- bookings.py: bookings, their events, and double-booking anomalies.
- idempotency.py: responses kept by Idempotency-Key.
- changelog.py: the change log and this node's clock (`from app.store import changelog`).
- replication.py: node_meta (identity, secrets), sync state, the hub's peers and sync keys.

A second backend (PostgreSQL, for a hub past one machine) subclasses `Connection` with its own
`Dialect`, and brings its own `open_db`, `connection` and `init_database`; the concern modules
and the contract suite in tests/store/ stay as they are.
"""

from __future__ import annotations

from app.store.blockers import (
    blockers_for_resource,
    delete_blocker,
    get_blocker,
    insert_blocker,
    iter_blockers,
)
from app.store.booking_batches import (
    bookings_with_rivals,
    events_of_bookings,
    insert_remote_events,
    save_replayed_bookings,
    tombstoned_among,
)
from app.store.bookings import (
    active_bookings_between,
    active_bookings_from,
    anomaly_records,
    append_booking_event,
    booking_events,
    booking_for_change,
    booking_lock,
    delete_booking,
    get_booking,
    has_event_stamped_between,
    has_future_active_bookings,
    insert_anomaly,
    insert_booking,
    insert_remote_event,
    list_bookings,
    lock_resources,
    overlapping_active,
    recent_booking_events,
    resources_of_bookings,
    save_replayed_booking,
    slot_lock,
    unapplied_events,
)
from app.store.connection import Connection, Transaction
from app.store.customers import (
    count_customers,
    delete_customer,
    get_customer,
    insert_customer,
    list_customers,
    update_customer,
)
from app.store.errors import (
    CannotOpen,
    ConstraintViolated,
    Contention,
    RowMissing,
    StorageFull,
    StorageProblem,
    StorageUnavailable,
    StoreError,
)
from app.store.idempotency import get_idempotent, save_idempotent
from app.store.keys import (
    count_api_keys,
    delete_ui_session,
    get_api_key,
    insert_api_key,
    insert_ui_session,
    list_api_keys,
    revoke_api_key,
    spend_token,
    ui_session_key,
)
from app.store.lww import (
    LWW_TABLES,
    apply_delete,
    apply_fields,
    apply_fields_many,
    delete_local,
    field_clocks,
    is_tombstoned,
    record_lock,
    upsert_local,
)
from app.store.replication import (
    bind_sync_key,
    epoch_and_former_node_ids,
    former_node_ids,
    hold_push,
    mark_as_backup,
    meta,
    node_id,
    note_sync_key_push,
    organization_id,
    origin_lock,
    peer_acked,
    record_sync_key_move,
    set_meta,
    set_peer_acked,
    set_sync_state,
    sync_key_binding,
    sync_key_moves,
    sync_state,
)
from app.store.resources import (
    delete_resource,
    get_resource,
    insert_resource,
    list_resources,
    resource_timezone,
    update_resource,
)
from app.store.rows import count_rows
from app.store.sqlite import BACKSTOP_AUTOCHECKPOINT_PAGES, BUSY_TIMEOUT_MS
from app.store.sqlite_files import Checkpointer, checkpoints_aside
from app.store.targets import close_thread_connections, connection, init_database, open_db


def transaction(db: Connection) -> Transaction:
    """One unit of work (`with store.transaction(db):`): see Connection.transaction."""
    return db.transaction()


def write_problem(db: Connection) -> str | None:
    """None if the database took its last write, else "full" or "read_only" (for /healthz)."""
    return db.write_problem()


__all__ = [
    "tombstoned_among",
    "save_replayed_bookings",
    "insert_remote_events",
    "events_of_bookings",
    "bookings_with_rivals",
    "BACKSTOP_AUTOCHECKPOINT_PAGES",
    "BUSY_TIMEOUT_MS",
    "LWW_TABLES",
    "CannotOpen",
    "Checkpointer",
    "checkpoints_aside",
    "Connection",
    "ConstraintViolated",
    "Contention",
    "RowMissing",
    "StorageFull",
    "StorageProblem",
    "StorageUnavailable",
    "StoreError",
    "active_bookings_between",
    "active_bookings_from",
    "anomaly_records",
    "append_booking_event",
    "apply_delete",
    "apply_fields",
    "apply_fields_many",
    "bind_sync_key",
    "blockers_for_resource",
    "booking_events",
    "booking_for_change",
    "booking_lock",
    "close_thread_connections",
    "connection",
    "count_api_keys",
    "count_customers",
    "count_rows",
    "delete_blocker",
    "delete_booking",
    "delete_customer",
    "delete_local",
    "delete_resource",
    "delete_ui_session",
    "field_clocks",
    "epoch_and_former_node_ids",
    "former_node_ids",
    "get_api_key",
    "get_blocker",
    "get_booking",
    "get_customer",
    "get_idempotent",
    "get_resource",
    "has_event_stamped_between",
    "has_future_active_bookings",
    "hold_push",
    "init_database",
    "insert_anomaly",
    "insert_api_key",
    "insert_blocker",
    "insert_booking",
    "insert_customer",
    "insert_remote_event",
    "insert_resource",
    "insert_ui_session",
    "is_tombstoned",
    "iter_blockers",
    "list_api_keys",
    "list_bookings",
    "list_customers",
    "list_resources",
    "lock_resources",
    "mark_as_backup",
    "meta",
    "node_id",
    "note_sync_key_push",
    "open_db",
    "organization_id",
    "origin_lock",
    "overlapping_active",
    "peer_acked",
    "recent_booking_events",
    "record_lock",
    "record_sync_key_move",
    "resource_timezone",
    "resources_of_bookings",
    "revoke_api_key",
    "save_idempotent",
    "save_replayed_booking",
    "set_meta",
    "set_peer_acked",
    "set_sync_state",
    "slot_lock",
    "spend_token",
    "sync_key_binding",
    "sync_key_moves",
    "sync_state",
    "transaction",
    "ui_session_key",
    "unapplied_events",
    "update_customer",
    "update_resource",
    "upsert_local",
    "write_problem",
]
