"""SQLite's m0009 and m0013 for a hub on PostgreSQL: sign-in links, services, booking prices.

m0009 keeps one-time sign-in links; m0013 adds services and what a booking took from its
service (its id, price, currency and buffer).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TEXT = 'text COLLATE "C"'
MS = "bigint"

STATEMENTS = [
    f"""CREATE TABLE signin_links (
        token_hash {TEXT} PRIMARY KEY,
        key_id {TEXT} NOT NULL,
        expires_at {MS} NOT NULL
    )""",
    f"""CREATE TABLE services (
        id {TEXT} PRIMARY KEY,
        name {TEXT} NOT NULL,
        duration_minutes bigint NOT NULL,
        price_minor bigint NOT NULL,
        currency {TEXT} NOT NULL,
        buffer_minutes bigint NOT NULL DEFAULT 0,
        resource_ids {TEXT} NOT NULL DEFAULT '[]',
        metadata {TEXT} NOT NULL DEFAULT '{{}}',
        created_at {MS} NOT NULL,
        updated_at {MS} NOT NULL,
        field_clocks {TEXT} NOT NULL DEFAULT '{{}}'
    )""",
    f"ALTER TABLE bookings ADD COLUMN service_id {TEXT}",
    "ALTER TABLE bookings ADD COLUMN price_minor bigint",
    f"ALTER TABLE bookings ADD COLUMN currency {TEXT}",
    "ALTER TABLE bookings ADD COLUMN buffer_minutes bigint NOT NULL DEFAULT 0",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
