"""The schema, only ever changed by appending a migration here (never edit a shipped one).

Migrations import only sqlite_utils, so they stay runnable whatever the app code becomes.
Times are INTEGER milliseconds since the epoch (UTC); JSON columns hold TEXT.
"""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("booking")


@migrations()
def m0001_foundation(db: Database) -> None:
    """Node identity, API keys, customers, resources and the change log."""
    statements = [
        # Node-local settings: node_id, cursor signing secret, the HLC's last stamp.
        """CREATE TABLE node_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT""",
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            scopes TEXT NOT NULL,
            rate_limit TEXT NOT NULL,
            tokens_remaining INTEGER,
            node_id TEXT,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) STRICT""",
        """CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            external_id TEXT,
            phone TEXT,
            email TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT""",
        "CREATE INDEX customers_email ON customers (lower(email))",
        """CREATE TABLE resources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            timezone TEXT NOT NULL,
            default_duration_minutes INTEGER NOT NULL,
            buffer_minutes INTEGER NOT NULL,
            business_hours TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT""",
        # seq is the local order of arrival (the hub's pull cursor); AUTOINCREMENT so a
        # sequence number is never reused, even after the newest row is deleted.
        # change_id is derived: origin_node || ':' || origin_seq.
        """CREATE TABLE change_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            origin_node TEXT NOT NULL,
            origin_seq INTEGER NOT NULL,
            hlc TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            op TEXT NOT NULL,
            payload TEXT NOT NULL,
            clock_suspect INTEGER NOT NULL DEFAULT 0,
            UNIQUE (origin_node, origin_seq)
        ) STRICT""",
        "CREATE INDEX change_log_entity ON change_log (entity, entity_id, hlc)",
    ]
    for statement in statements:
        db.execute(statement)


@migrations()
def m0002_bookings_blockers(db: Database) -> None:
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


@migrations()
def m0003_shingleai_customer_fields(db: Database) -> None:
    """The ShingleAI customer fields (API.md §6) as nullable columns of the one customers table.

    Columns, not a side table, so each one syncs as a field (per-field last-writer-wins).
    `data` is the existing `metadata` column; name, email and phone are shared as they are.
    Times are INTEGER milliseconds; `deleted_at` marks a soft delete from /v1.
    """
    columns = [
        ("business_id", "TEXT"),
        ("contact_id", "TEXT"),
        ("type", "TEXT"),
        ("notes", "TEXT"),
        ("status", "TEXT"),
        ("customer_since", "INTEGER"),
        ("deleted_at", "INTEGER"),
        ("organization_id", "TEXT"),
    ]
    for name, kind in columns:
        db.execute(f"ALTER TABLE customers ADD COLUMN {name} {kind}")


@migrations()
def m0004_sync(db: Database) -> None:
    """Per-field clocks, tombstones, sync state, the hub's per-node marks, replicated anomalies.

    `field_clocks` maps each column to the HLC of the change that last set it: remote upserts
    win a field only with a later stamp (SYNC.md §5, last writer wins per field).
    """
    statements = [
        "ALTER TABLE customers ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE resources ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE blockers ADD COLUMN field_clocks TEXT NOT NULL DEFAULT '{}'",
        # A delete wins over any concurrent or later update: nothing is resurrected.
        """CREATE TABLE tombstones (
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            PRIMARY KEY (entity, entity_id)
        ) STRICT, WITHOUT ROWID""",
        # Node-local, never synced: hub URL and epoch, acknowledged sequence, pull cursor,
        # last success and error, backoff.
        """CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT
        ) STRICT""",
        # Hub side: the highest origin_seq applied for each pushing node, and its sync key.
        """CREATE TABLE sync_peers (
            node_id TEXT PRIMARY KEY,
            acked_through INTEGER NOT NULL
        ) STRICT""",
        # Double bookings the hub could not resolve; they travel as changes like records do.
        """CREATE TABLE anomalies (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            booking_id TEXT,
            other_booking_id TEXT,
            message TEXT NOT NULL,
            hlc TEXT NOT NULL
        ) STRICT""",
        "CREATE INDEX booking_events_type ON booking_events (booking_id, type)",
    ]
    for statement in statements:
        db.execute(statement)


@migrations()
def m0005_drop_booking_events_type_index(db: Database) -> None:
    # Every booking event written paid for this index. Its one query (a booking's first
    # `created` stamp) reads the few events of one booking through booking_events_booking.
    db.execute("DROP INDEX booking_events_type")


@migrations()
def m0006_drop_change_log_entity_index(db: Database) -> None:
    # No query reads the change log by entity: push and pull go by (origin_node, origin_seq)
    # and by seq. The index only cost every local write and every merged change a b-tree insert
    # and about 1.5 pages in the WAL.
    db.execute("DROP INDEX change_log_entity")


@migrations()
def m0007_sync_keys_follow_copies(db: Database) -> None:
    """A sync key serves the node it was bound to and that node's restored or copied successors
    (SYNC.md §3a). `lineage_hash` is the hash of the lineage token the first node showed; a
    successor shows the same token. `sync_key_moves` keeps the nodes a key moved away from, so
    that a second live copy still using the key is refused instead of merged into one writer.
    """
    db.execute("ALTER TABLE api_keys ADD COLUMN lineage_hash TEXT")
    db.execute(
        """CREATE TABLE sync_key_moves (
            key_id TEXT NOT NULL,
            node_id TEXT NOT NULL,
            moved_to TEXT NOT NULL,
            moved_at INTEGER NOT NULL,
            PRIMARY KEY (key_id, node_id)
        ) STRICT"""
    )
    # When the key's node last pushed new changes with it: a copy may take the key over only if
    # the original has gone quiet since the copy was made (a restore), not while it still syncs
    # with this key (two laptops sharing one).
    db.execute("ALTER TABLE api_keys ADD COLUMN pushed_at INTEGER")


@migrations()
def m0008_ui_sessions(db: Database) -> None:
    """Browser sign-ins held on the server, so Sign out ends one even for a copied cookie.

    Node-local (never synced): the cookie carries a random session id, of which only a SHA-256
    is kept here, with the key it signed in with.
    """
    db.execute(
        """CREATE TABLE ui_sessions (
            id_hash TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT"""
    )


@migrations()
def m0009_signin_links(db: Database) -> None:
    """One-time sign-in links made by `booking open` on the shop's own laptop.

    Node-local (never synced): a SHA-256 of the link's random token, the key the browser signs
    in with, and when the link stops working. Using a link deletes it.
    """
    db.execute(
        """CREATE TABLE signin_links (
            token_hash TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) STRICT"""
    )


@migrations()
def m0010_outbound(db: Database) -> None:
    """Reaching customers and other programs (issue #18): the outbox, its templates and shop
    settings, webhook subscriptions, calendar feeds, per-customer opt-outs, bookings' external ids.

    `messages` is synced: a message is decided on the node that made the change causing it, in
    the same transaction, and travels like any record; only the sending node delivers it. Its
    decision fields never change; its outcome (state, attempts, error, sent_at) merges by
    rank, a message sent anywhere staying sent (app.store.outbox). `next_attempt_at` and
    `lease_until` are the sender's own bookkeeping and never leave it.
    """
    statements = [
        """CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            channel TEXT NOT NULL,
            booking_id TEXT,
            customer_id TEXT,
            subscription_id TEXT,
            basis TEXT NOT NULL DEFAULT '{}',
            payload TEXT NOT NULL DEFAULT '{}',
            ordering_key TEXT,
            order_hlc TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            decided_by TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            state TEXT NOT NULL,
            state_reason TEXT,
            state_hlc TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            recipient TEXT,
            sent_at INTEGER,
            sent_by TEXT,
            next_attempt_at INTEGER,
            lease_until INTEGER
        ) STRICT""",
        "CREATE INDEX messages_due ON messages (state, due_at)",
        "CREATE INDEX messages_booking ON messages (booking_id, state)",
        "CREATE INDEX messages_queue ON messages (subscription_id, ordering_key, order_hlc)",
        # One row per (kind, channel) a shop has rewritten; the others use the built-in text.
        """CREATE TABLE message_templates (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            channel TEXT NOT NULL,
            subject TEXT,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
        ) STRICT""",
        # One row, id 'shop': which channels and kinds go out, and the reminders' lead times.
        """CREATE TABLE messaging_settings (
            id TEXT PRIMARY KEY,
            channels TEXT NOT NULL DEFAULT '["email"]',
            kinds TEXT NOT NULL DEFAULT '["confirmation","reminder","moved","cancelled"]',
            reminder_minutes TEXT NOT NULL DEFAULT '[]',
            shop_name TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
        ) STRICT""",
        """CREATE TABLE webhook_subscriptions (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL DEFAULT '[]',
            secret TEXT NOT NULL,
            description TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            disabled_reason TEXT,
            disabled_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
        ) STRICT""",
        # The sender's own count of failed deliveries in a row per subscription; never synced.
        """CREATE TABLE webhook_health (
            subscription_id TEXT PRIMARY KEY,
            failures_in_a_row INTEGER NOT NULL
        ) STRICT""",
        # A feed's URL holds a random token; only its SHA-256 is kept (and synced, so the URL
        # works on the hub whichever node made it). resource_id NULL: the whole shop.
        """CREATE TABLE calendar_feeds (
            id TEXT PRIMARY KEY,
            resource_id TEXT,
            name TEXT,
            token_hash TEXT NOT NULL,
            revoked_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
        ) STRICT""",
        "CREATE INDEX calendar_feeds_token ON calendar_feeds (token_hash)",
        "ALTER TABLE customers ADD COLUMN email_opt_out INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE customers ADD COLUMN sms_opt_out INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX customers_external_id ON customers (external_id)",
        # An imported booking keeps the id it had in the system it came from (its `created`
        # event carries it), so importing the same file twice finds it.
        "ALTER TABLE bookings ADD COLUMN external_id TEXT",
        "CREATE INDEX bookings_external_id ON bookings (external_id)",
    ]
    for statement in statements:
        db.execute(statement)


# The digits of a customer's phone, and a leading "+", as plain SQL: what the phone search's
# index holds. app/store/customer_search.py queries this very expression (it must match the
# text here exactly for SQLite to use the index). Built-in functions only, so every replica
# derives the same index from the synced `phone` field, and no write pays for Python.
PHONE_DIGITS_SQL = (
    "replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), "
    "'(', ''), ')', ''), '.', ''), '/', ''), char(160), '')"
)


@migrations()
def m0011_counter(db: Database) -> None:
    """What the counter UI needs: shop settings, staff accounts, and customer search indexes.

    `shop_settings` and `staff` are node-local (never synced), like API keys: each laptop keeps
    its own. A staff member signs in with a name and a PIN or password (an argon2 hash is kept)
    and is locked out for a while after repeated failures. `name_key` is the name case-folded,
    so two staff cannot share a name however it is capitalised.

    The two customer indexes are derived by SQLite from synced fields: the phone's digits (any
    spelling of a number is turned into these at query time) and a covering index for the
    name type-ahead, which walks it in name order.
    """
    statements = [
        """CREATE TABLE shop_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT""",
        """CREATE TABLE staff (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT""",
        f"CREATE INDEX customers_phone_digits ON customers ({PHONE_DIGITS_SQL})",
        "CREATE INDEX customers_name_search "
        "ON customers (deleted_at, name COLLATE NOCASE, email, external_id, id)",
    ]
    for statement in statements:
        db.execute(statement)


@migrations()
def m0013_services_and_moves(db: Database) -> None:
    """Services with prices (synced per field, like resources), and what a booking took from
    the service it names: the service id, its price and buffer at the time of booking, so a
    later price change leaves booked prices alone. Moves and corrections are booking events;
    they need no table."""
    db.execute(
        """CREATE TABLE services (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            duration_minutes INTEGER NOT NULL,
            price_minor INTEGER NOT NULL,
            currency TEXT NOT NULL,
            buffer_minutes INTEGER NOT NULL DEFAULT 0,
            resource_ids TEXT NOT NULL DEFAULT '[]',
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
        ) STRICT"""
    )
    for column in (
        "service_id TEXT",
        "price_minor INTEGER",
        "currency TEXT",
        "buffer_minutes INTEGER NOT NULL DEFAULT 0",
    ):
        db.execute(f"ALTER TABLE bookings ADD COLUMN {column}")
