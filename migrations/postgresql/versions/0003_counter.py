"""SQLite's m0011 for a hub on PostgreSQL: shop settings and staff accounts (node-local).

The two customer search indexes of m0011 are SQLite's own (an expression and a NOCASE
collation); the type-ahead search runs on the laptops, and a hub on PostgreSQL needs only the
tables, so the schema comparison in tests/postgres_hub/test_schema.py still holds.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT = 'text COLLATE "C"'
MS = "bigint"

STATEMENTS = [
    f"""CREATE TABLE shop_settings (
        key {TEXT} PRIMARY KEY,
        value {TEXT} NOT NULL
    )""",
    f"""CREATE TABLE staff (
        id {TEXT} PRIMARY KEY,
        name {TEXT} NOT NULL,
        name_key {TEXT} NOT NULL UNIQUE,
        role {TEXT} NOT NULL,
        secret_hash {TEXT} NOT NULL,
        failed_attempts bigint NOT NULL DEFAULT 0,
        locked_until {MS},
        created_at {MS} NOT NULL,
        updated_at {MS} NOT NULL
    )""",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
