"""Opening a database across versions: back up before migrating, refuse a newer database.

A newer version backs the database up before it migrates; an older version refuses a database
a newer one has migrated, with a sentence that says what to do.

Every migration applied is recorded by name (sqlite-utils' `_sqlite_migrations`); a name this
version does not know was written by a newer one, whose schema this version cannot promise
to keep intact.
"""

from __future__ import annotations

import os
import sqlite3
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote

from app.ops import backups
from migrations.migrations import migrations
from sync import identity


class NewerDatabase(Exception):
    """The database was migrated by a newer version; the message says what to do."""


def known_migrations() -> list[str]:
    # sqlite-utils keeps the registered migrations in this list and offers no public reader.
    return [migration.name for migration in migrations._migrations]


def _applied(db_path: str) -> list[str]:
    """Migration names applied to the file, read without writing to it ([] for a new file)."""
    if not os.path.exists(db_path):
        return []
    try:
        connection = sqlite3.connect(
            f"file:{quote(str(Path(db_path).resolve()))}?mode=ro", uri=True
        )
    except sqlite3.Error:
        return []  # store.init_database says what is wrong with the file
    try:
        rows = connection.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
            [migrations.name],
        ).fetchall()
    except sqlite3.Error:
        return []  # no migrations table: a new or foreign file, left to store.init_database
    finally:
        connection.close()
    return [row[0] for row in rows]


def refuse_newer(db_path: str) -> None:
    """Raise NewerDatabase when a newer version has migrated the file."""
    unknown = [name for name in _applied(db_path) if name not in set(known_migrations())]
    if unknown:
        raise NewerDatabase(
            f"The database at {db_path} was upgraded by a newer version of the booking service "
            f"(its change {unknown[0]} is unknown to version {version('booking-service')}), so "
            "this version will not open it; install the newer version again "
            "(pipx upgrade booking-service), or restore a backup taken before the upgrade "
            "(booking backup list, then booking restore NAME)."
        )


def pending(db_path: str) -> list[str]:
    """Migrations this version would apply to an existing database ([] for a new file)."""
    applied = _applied(db_path)
    if not applied:
        return []
    return [name for name in known_migrations() if name not in set(applied)]


def open_for_use(db_path: str, backup_folder: Path) -> backups.Backup | None:
    """Refuse a newer database; back up one this version will migrate; then migrate and settle
    its identity (sync.identity.init_database). The before-upgrade backup, if one was taken."""
    refuse_newer(db_path)
    taken = None
    if pending(db_path):
        taken = backups.take(db_path, backup_folder, "before-upgrade")
    identity.init_database(db_path)
    return taken


def open_or_raise(db_path: str) -> None:
    """For create_app: refuse a newer database, then migrate without a backup (tests and
    embedders; `booking serve` has already backed up and migrated through open_for_use)."""
    refuse_newer(db_path)
    identity.init_database(db_path)
