"""Services with prices (synced per field, like resources), and what a booking took from"""

from sqlite_utils import Database


def apply(db: Database) -> None:
    """Services with prices (synced per field, like resources), and what a booking took from
    the service it names: the service id, its price and buffer at the time of booking, so a
    later price change leaves booked prices alone. Moves and corrections are booking events;
    they need no table."""
    db.execute(
        """CREATE TABLE services (
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
        ) STRICT"""
    )
    for column in (
        "service_id TEXT",
        "price_minor INTEGER",
        "currency TEXT",
        "buffer_minutes INTEGER NOT NULL DEFAULT 0",
    ):
        db.execute(f"ALTER TABLE bookings ADD COLUMN {column}")
