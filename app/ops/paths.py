"""Where the service keeps its files: the system's per-user folders, or beside a --db.

The per-user folders come from platformdirs, unless --db / BOOKING_DB names a database
elsewhere.

With the default database, everything lives in the per-user folders:

    data     booking.db (and its -wal, -shm, -node), backups/
    logs     booking.log and its rotated predecessors
    config   settings.toml, written by `booking service install`

A database given with --db keeps its backups and logs beside it (`backups/`, `logs/`), so a
development database in ./var, or a test's temporary folder, is self-contained. A hub on
PostgreSQL (a `postgresql://` URL) has no folder of its own: its logs and `booking backup`'s
dumps go to the per-user folders. BOOKING_BACKUP_DIR and BOOKING_LOG_DIR override either.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

from app.settings import setting
from app.store.postgres import is_postgres

APP_NAME = "booking"
DATABASE_NAME = "booking.db"


def _dirs() -> PlatformDirs:
    # appauthor=False: no vendor folder on Windows (%LOCALAPPDATA%\booking, not ...\booking\booking)
    return PlatformDirs(APP_NAME, appauthor=False)


def default_database() -> Path:
    return _dirs().user_data_path / DATABASE_NAME


def database(given: str | None = None) -> str:
    """The database path: the one given (--db or BOOKING_DB), else the per-user default."""
    chosen = given or setting("DB")
    return str(chosen) if chosen else str(default_database())


def _is_default(db_path: str) -> bool:
    return os.path.abspath(db_path) == os.path.abspath(default_database())


def backup_dir(db_path: str) -> Path:
    """BOOKING_BACKUP_DIR, else `backups` in the database's folder (the per-user data folder's
    for a database on a PostgreSQL server)."""
    chosen = setting("BACKUP_DIR")
    if chosen:
        return Path(chosen)
    if is_postgres(db_path):
        return _dirs().user_data_path / "backups"
    return Path(db_path).resolve().parent / "backups"


def log_dir(db_path: str) -> Path:
    """BOOKING_LOG_DIR, else the per-user log folder (default database) or `logs` beside it."""
    chosen = setting("LOG_DIR")
    if chosen:
        return Path(chosen)
    if is_postgres(db_path) or _is_default(db_path):
        return _dirs().user_log_path
    return Path(db_path).resolve().parent / "logs"


def settings_file() -> Path:
    """BOOKING_CONFIG, else `settings.toml` in the per-user config folder."""
    chosen = setting("CONFIG")
    return Path(chosen) if chosen else _dirs().user_config_path / "settings.toml"


def lock_file(db_path: str) -> Path:
    """Held by `booking serve` while it runs, so a restore can tell it is running."""
    return Path(f"{db_path}-serve.lock")
