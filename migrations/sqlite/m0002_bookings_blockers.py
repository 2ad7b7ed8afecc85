"""Bookings and their events (the source of truth), blockers, idempotency records."""

from sqlite_utils import Database


def apply(db: Database) -> None:
    """Bookings and their events (the source of truth), blockers, idempotency records.

    Synced tables have no foreign keys: a change from another node may name a record this
    node has deleted, and it must still be stored (SYNC.md §3).
    """
    statements = [
        # A booking row is the replay of its events (SYNC.md §5); it is kept for fast queries.
        """CREATE TABLE bookings (
            id TEXT PRIMARY KEY,
            resource_id TEXT NOT NULL,
            customer_id TEXT,
            start_time INTEGER NOT NULL,
            end_time INTEGER NOT NULL,
            title TEXT,
            notes TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL,
            cancel_reason TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT""",
        "CREATE INDEX bookings_resource_start ON bookings (resource_id, start_time)",
        "CREATE INDEX bookings_start ON bookings (start_time, id)",
        "CREATE INDEX bookings_customer ON bookings (customer_id, start_time)",
        """CREATE TABLE booking_events (
            id TEXT PRIMARY KEY,
            booking_id TEXT NOT NULL,
            type TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT,
            actor TEXT,
            data TEXT NOT NULL DEFAULT '{}',
            occurred_at INTEGER NOT NULL,
            node_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            applied INTEGER NOT NULL DEFAULT 1,
            anomaly TEXT
        ) STRICT""",
        "CREATE INDEX booking_events_booking ON booking_events (booking_id, hlc)",
        """CREATE TABLE blockers (
            id TEXT PRIMARY KEY,
            resource_id TEXT NOT NULL,
            title TEXT,
            start_time INTEGER NOT NULL,
            end_time INTEGER NOT NULL,
            all_day INTEGER NOT NULL DEFAULT 0,
            recurrence TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT""",
        "CREATE INDEX blockers_resource ON blockers (resource_id, start_time)",
        # Node-local, never synced: the first response to each Idempotency-Key, per API key.
        """CREATE TABLE idempotency_keys (
            api_key_id TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status INTEGER NOT NULL,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (api_key_id, key)
        ) STRICT""",
        "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
    ]
    for statement in statements:
        db.execute(statement)
