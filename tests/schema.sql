CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
) STRICT;
CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            scopes TEXT NOT NULL,
            rate_limit TEXT NOT NULL,
            tokens_remaining INTEGER,
            node_id TEXT,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) STRICT;
CREATE TABLE change_log (
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
        ) STRICT;
CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            external_id TEXT,
            phone TEXT,
            email TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
CREATE TABLE node_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
CREATE TABLE resources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            timezone TEXT NOT NULL,
            default_duration_minutes INTEGER NOT NULL,
            buffer_minutes INTEGER NOT NULL,
            business_hours TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
CREATE INDEX change_log_entity ON change_log (entity, entity_id, hlc);
CREATE INDEX customers_email ON customers (lower(email));
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
