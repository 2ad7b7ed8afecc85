"""The shop's own settings (country, clock, first weekday): node-local, never synced."""

from __future__ import annotations

from sqlite_utils import Database


def read_all(db: Database) -> dict[str, str]:
    """Every stored setting by key; a key never set is absent (its default applies)."""
    return dict(db.conn.execute("SELECT key, value FROM shop_settings").fetchall())


def write(db: Database, values: dict[str, str]) -> None:
    """Store these settings. Call inside store.transaction()."""
    assert db.conn.in_transaction, "shop_settings.write() must run inside store.transaction()"
    db.conn.executemany(
        "INSERT INTO shop_settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        list(values.items()),
    )
