"""What the counter UI needs: shop settings, staff accounts, and customer search indexes."""

from sqlite_utils import Database

# The digits of a customer's phone, and a leading "+", as plain SQL: what the phone search's
# index holds. app/store/customer_search.py queries this very expression (it must match the
# text here exactly for SQLite to use the index). Built-in functions only, so every replica
# derives the same index from the synced `phone` field, and no write pays for Python.
PHONE_DIGITS_SQL = (
    "replace(replace(replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), "
    "'(', ''), ')', ''), '.', ''), '/', ''), char(160), '')"
)


def apply(db: Database) -> None:
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
