"""Putting a backup back in place of the database, safely.

Refused while `booking serve` runs (its lock, app/ops/lock.py), and for a file that is not a
sound backup of this service or that a newer version wrote. The database it replaces is first
backed up itself (kind before-restore), so a restore can be undone with another restore; if
that copy cannot be made (a damaged database: often why one restores), the old files are moved
aside instead. The restored file carries the backup mark, so it takes a node id of its own
when it is opened (SYNC.md §3a): whatever the laptop wrote after the backup and synced comes
back from the hub, and nothing is issued twice under one change id.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from app import store
from app.core.times import wall_ms
from app.ops import backups, lock, upgrade
from sync import identity


@dataclass(frozen=True)
class Restored:
    backup: Path
    old_node: str  # the node id the backup was taken from
    new_node: str  # the node id the restored database writes under from now on
    saved_as: Path  # where the replaced database went


def find(name: str, folder: Path) -> Path:
    """A backup by the name `booking backup list` shows, or by a path to any backup file."""
    candidate = folder / name
    if os.sep not in name and "/" not in name and candidate.is_file():
        return candidate
    if Path(name).is_file():
        return Path(name)
    raise backups.BackupError(
        f"No backup named {name} in {folder}; `booking backup list` shows the names."
    )


def _check_backup(path: Path) -> str:
    """The backup's node id, after checking it is a sound database of this service."""
    try:
        connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA quick_check").fetchall()
            row = connection.execute("SELECT value FROM node_meta WHERE key = 'node_id'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        raise backups.BackupError(
            f"{path} is not a backup of a booking database; pick one from `booking backup list`."
        ) from None
    if result != [("ok",)] or row is None:
        raise backups.BackupError(
            f"{path} is damaged (its integrity check failed); pick another backup from "
            "`booking backup list`."
        )
    upgrade.refuse_newer(str(path))
    return str(row[0])


def restore(db_path: str, backup: Path, folder: Path) -> Restored:
    """Replace the database with `backup`; raises BackupError, ServerRunning, NewerDatabase."""
    old_node = _check_backup(backup)
    held = lock.acquire(db_path, "restore a backup over it")
    try:
        saved = _save_current(db_path, folder)
        staged = Path(f"{db_path}.restoring")
        try:
            shutil.copyfile(backup, staged)
            copy = store.open_db(str(staged))
            try:
                store.mark_as_backup(copy)  # a plain copy handed in by path takes a new id too
            finally:
                copy.close()
            for suffix in ("-wal", "-shm"):  # the replaced file's; they must not meet the new one
                Path(db_path + suffix).unlink(missing_ok=True)
            os.replace(staged, db_path)
        except (OSError, sqlite3.Error) as error:
            staged.unlink(missing_ok=True)
            reason = getattr(error, "strerror", None) or str(error)
            raise backups.BackupError(f"Cannot restore {backup}: {reason}.") from None
        new_node = identity.init_database(db_path)
    finally:
        held.release()
    return Restored(backup, old_node, new_node, saved)


def _save_current(db_path: str, folder: Path) -> Path:
    """Back up the database about to be replaced; move it aside if it cannot be read."""
    if not os.path.exists(db_path):
        return Path(db_path)
    try:
        return backups.take(db_path, folder, "before-restore").path
    except backups.BackupError:
        aside = Path(f"{db_path}.replaced-{wall_ms()}")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_path + suffix):
                os.replace(db_path + suffix, f"{aside}{suffix}")
        return aside
