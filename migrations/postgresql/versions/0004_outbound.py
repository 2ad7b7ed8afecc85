"""SQLite's m0010 for a hub on PostgreSQL: the outbox, message templates, webhooks, feeds.

The same tables and columns as migrations/migrations.py's m0010: messages (synced, with their
state), the shop's templates and messaging settings, webhook subscriptions and their local
failure counts, calendar feeds, opt-outs on customers, and bookings' `external_id`.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TEXT = 'text COLLATE "C"'
MS = "bigint"
CLOCKS = f"field_clocks {TEXT} NOT NULL DEFAULT '{{}}'"

STATEMENTS = [
    f"""CREATE TABLE messages (
        id {TEXT} PRIMARY KEY,
        kind {TEXT} NOT NULL,
        channel {TEXT} NOT NULL,
        booking_id {TEXT},
        customer_id {TEXT},
        subscription_id {TEXT},
        basis {TEXT} NOT NULL DEFAULT '{{}}',
        payload {TEXT} NOT NULL DEFAULT '{{}}',
        ordering_key {TEXT},
        order_hlc {TEXT} NOT NULL,
        due_at {MS} NOT NULL,
        decided_by {TEXT} NOT NULL,
        created_at {MS} NOT NULL,
        state {TEXT} NOT NULL,
        state_reason {TEXT},
        state_hlc {TEXT} NOT NULL,
        attempts bigint NOT NULL DEFAULT 0,
        last_error {TEXT},
        recipient {TEXT},
        sent_at {MS},
        sent_by {TEXT},
        next_attempt_at {MS},
        lease_until {MS}
    )""",
    "CREATE INDEX messages_due ON messages (state, due_at)",
    "CREATE INDEX messages_booking ON messages (booking_id, state)",
    "CREATE INDEX messages_queue ON messages (subscription_id, ordering_key, order_hlc)",
    f"""CREATE TABLE message_templates (
        id {TEXT} PRIMARY KEY,
        kind {TEXT} NOT NULL,
        channel {TEXT} NOT NULL,
        subject {TEXT},
        body {TEXT} NOT NULL,
        created_at {MS} NOT NULL,
        updated_at {MS} NOT NULL,
        {CLOCKS}
    )""",
    f"""CREATE TABLE messaging_settings (
        id {TEXT} PRIMARY KEY,
        channels {TEXT} NOT NULL DEFAULT '["email"]',
        kinds {TEXT} NOT NULL DEFAULT '["confirmation","reminder","moved","cancelled"]',
        reminder_minutes {TEXT} NOT NULL DEFAULT '[]',
        shop_name {TEXT},
        created_at {MS} NOT NULL,
        updated_at {MS} NOT NULL,
        {CLOCKS}
    )""",
    f"""CREATE TABLE webhook_subscriptions (
        id {TEXT} PRIMARY KEY,
        url {TEXT} NOT NULL,
        events {TEXT} NOT NULL DEFAULT '[]',
        secret {TEXT} NOT NULL,
        description {TEXT},
        enabled bigint NOT NULL DEFAULT 1,
        disabled_reason {TEXT},
        disabled_at {MS},
        created_at {MS} NOT NULL,
        updated_at {MS} NOT NULL,
        {CLOCKS}
    )""",
    f"""CREATE TABLE webhook_health (
        subscription_id {TEXT} PRIMARY KEY,
        failures_in_a_row bigint NOT NULL
    )""",
    f"""CREATE TABLE calendar_feeds (
        id {TEXT} PRIMARY KEY,
        resource_id {TEXT},
        name {TEXT},
        token_hash {TEXT} NOT NULL,
        revoked_at {MS},
        created_at {MS} NOT NULL,
        updated_at {MS} NOT NULL,
        {CLOCKS}
    )""",
    "CREATE INDEX calendar_feeds_token ON calendar_feeds (token_hash)",
    "ALTER TABLE customers ADD COLUMN email_opt_out bigint NOT NULL DEFAULT 0",
    "ALTER TABLE customers ADD COLUMN sms_opt_out bigint NOT NULL DEFAULT 0",
    "CREATE INDEX customers_external_id ON customers (external_id)",
    f"ALTER TABLE bookings ADD COLUMN external_id {TEXT}",
    "CREATE INDEX bookings_external_id ON bookings (external_id)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
