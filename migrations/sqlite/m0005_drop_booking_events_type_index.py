"""Drop an index every booking event paid for and no query needed."""

from sqlite_utils import Database


def apply(db: Database) -> None:
    # Every booking event written paid for this index. Its one query (a booking's first
    # `created` stamp) reads the few events of one booking through booking_events_booking.
    db.execute("DROP INDEX booking_events_type")
