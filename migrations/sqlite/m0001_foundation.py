"""Node identity, API keys, customers, resources and the change log."""

from sqlite_utils import Database


def apply(db: Database) -> None:
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
