"""The SQLite schema, only ever changed by appending a migration (never edit a shipped one).

One file per migration in migrations/sqlite/, registered here in order. Migrations import only
sqlite_utils, so they stay runnable whatever the app code becomes. Times are INTEGER
milliseconds since the epoch (UTC); JSON columns hold TEXT. The PostgreSQL hub's schema follows
the same steps as Alembic revisions (migrations/postgresql/versions/).
"""

from sqlite_utils.migrations import Migrations

from migrations.sqlite import (
    m0001_foundation,
    m0002_bookings_blockers,
    m0003_shingleai_customer_fields,
    m0004_sync,
    m0005_drop_booking_events_type_index,
    m0006_drop_change_log_entity_index,
    m0007_sync_keys_follow_copies,
    m0008_ui_sessions,
    m0009_signin_links,
    m0010_outbound,
    m0011_counter,
    m0013_services_and_moves,
)

migrations = Migrations("booking")
for step in (
    m0001_foundation,
    m0002_bookings_blockers,
    m0003_shingleai_customer_fields,
    m0004_sync,
    m0005_drop_booking_events_type_index,
    m0006_drop_change_log_entity_index,
    m0007_sync_keys_follow_copies,
    m0008_ui_sessions,
    m0009_signin_links,
    m0010_outbound,
    m0011_counter,
    m0013_services_and_moves,
):
    # The name a database records a migration under: its file's, as when each was a function.
    migrations(name=step.__name__.rpartition(".")[2])(step.apply)
