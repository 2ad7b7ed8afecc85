"""Reaching customers and other programs (issue #18): the outbox, its templates and shop"""

from sqlite_utils import Database


def apply(db: Database) -> None:
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
