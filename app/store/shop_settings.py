"""The shop's own settings (country, clock, first weekday): node-local, never synced."""

from __future__ import annotations

from app.store.connection import Connection


def read_all(db: Connection) -> dict[str, str]:
    """Every stored setting by key; a key never set is absent (its default applies)."""
    return dict(db.execute("SELECT key, value FROM shop_settings").fetchall())


def write(db: Connection, values: dict[str, str]) -> None:
    """Store these settings. Call inside store.transaction()."""
    assert db.in_transaction, "shop_settings.write() must run inside store.transaction()"
    db.executemany(
        "INSERT INTO shop_settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        list(values.items()),
    )
