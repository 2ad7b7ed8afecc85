CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
) STRICT;
CREATE TABLE anomalies (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            booking_id TEXT,
            other_booking_id TEXT,
            message TEXT NOT NULL,
            hlc TEXT NOT NULL
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
        , lineage_hash TEXT, pushed_at INTEGER) STRICT;
CREATE TABLE blockers (
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
        , field_clocks TEXT NOT NULL DEFAULT '{}') STRICT;
CREATE TABLE booking_events (
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
        ) STRICT;
CREATE TABLE bookings (
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
        , external_id TEXT, service_id TEXT, price_minor INTEGER, currency TEXT, buffer_minutes INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE calendar_feeds (
            id TEXT PRIMARY KEY,
            resource_id TEXT,
            name TEXT,
            token_hash TEXT NOT NULL,
            revoked_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
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
        , business_id TEXT, contact_id TEXT, type TEXT, notes TEXT, status TEXT, customer_since INTEGER, deleted_at INTEGER, organization_id TEXT, field_clocks TEXT NOT NULL DEFAULT '{}', email_opt_out INTEGER NOT NULL DEFAULT 0, sms_opt_out INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE idempotency_keys (
            api_key_id TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status INTEGER NOT NULL,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (api_key_id, key)
        ) STRICT;
CREATE TABLE message_templates (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            channel TEXT NOT NULL,
            subject TEXT,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
        ) STRICT;
CREATE TABLE messages (
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
        ) STRICT;
CREATE TABLE messaging_settings (
            id TEXT PRIMARY KEY,
            channels TEXT NOT NULL DEFAULT '["email"]',
            kinds TEXT NOT NULL DEFAULT '["confirmation","reminder","moved","cancelled"]',
            reminder_minutes TEXT NOT NULL DEFAULT '[]',
            shop_name TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            field_clocks TEXT NOT NULL DEFAULT '{}'
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
        , field_clocks TEXT NOT NULL DEFAULT '{}') STRICT;
CREATE TABLE services (
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
        ) STRICT;
CREATE TABLE shop_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
CREATE TABLE signin_links (
            token_hash TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) STRICT;
CREATE TABLE staff (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            secret_hash TEXT NOT NULL,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
CREATE TABLE sync_key_moves (
            key_id TEXT NOT NULL,
            node_id TEXT NOT NULL,
            moved_to TEXT NOT NULL,
            moved_at INTEGER NOT NULL,
            PRIMARY KEY (key_id, node_id)
        ) STRICT;
CREATE TABLE sync_peers (
            node_id TEXT PRIMARY KEY,
            acked_through INTEGER NOT NULL
        ) STRICT;
CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT
        ) STRICT;
CREATE TABLE tombstones (
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            hlc TEXT NOT NULL,
            PRIMARY KEY (entity, entity_id)
        ) STRICT, WITHOUT ROWID;
CREATE TABLE ui_sessions (
            id_hash TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) STRICT;
CREATE TABLE webhook_health (
            subscription_id TEXT PRIMARY KEY,
            failures_in_a_row INTEGER NOT NULL
        ) STRICT;
CREATE TABLE webhook_subscriptions (
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
        ) STRICT;
CREATE INDEX blockers_resource ON blockers (resource_id, start_time);
CREATE INDEX booking_events_booking ON booking_events (booking_id, hlc);
CREATE INDEX bookings_customer ON bookings (customer_id, start_time);
CREATE INDEX bookings_external_id ON bookings (external_id);
CREATE INDEX bookings_resource_start ON bookings (resource_id, start_time);
CREATE INDEX bookings_start ON bookings (start_time, id);
CREATE INDEX calendar_feeds_token ON calendar_feeds (token_hash);
CREATE INDEX customers_email ON customers (lower(email));
CREATE INDEX customers_external_id ON customers (external_id);
CREATE INDEX customers_name_search ON customers (deleted_at, name COLLATE NOCASE, email, external_id, id);
CREATE INDEX customers_phone_digits ON customers (replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', ''), char(160), ''));
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE INDEX messages_booking ON messages (booking_id, state);
CREATE INDEX messages_due ON messages (state, due_at);
CREATE INDEX messages_queue ON messages (subscription_id, ordering_key, order_hlc);
