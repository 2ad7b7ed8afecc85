"""Backups: consistent copies of the live database, kept by day and by week.

A backup is SQLite's online backup of the live file (the server keeps running), marked so that
a restore takes a node id of its own (SYNC.md §3a, sync.identity), switched to a single file
(no -wal beside it) and checked with `PRAGMA quick_check` before it gets its final name: the
folder never shows half a backup. Names carry the UTC time and why it was taken:

    booking-2026-01-04T030405.123Z-nightly.db

Kinds: nightly (the scheduled job), manual (`booking backup`), before-upgrade (a newer version
about to migrate) and before-restore (the database a restore replaced, so a restore can be
undone). Pruning keeps the newest backup of each of the last BACKUPS_DAILY days and of each
of the last BACKUPS_WEEKLY weeks (local time), the newest before-upgrade and before-restore
backups, and every manual one (a person asked for it; a person deletes it).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app import store
from app.core.times import wall_ms

KINDS = ("nightly", "manual", "before-upgrade", "before-restore")
_NAME = re.compile(r"^booking-(\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z)-([a-z-]+)\.db$")
_TIME_FORMAT = "%Y-%m-%dT%H%M%S"
STATUS_FILE = "status.json"  # the last integrity check and the last failure, for health


class BackupError(Exception):
    """A backup or restore could not be made; the message is fit for a person."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_ms: int
    kind: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def local_time(self) -> datetime:
        return datetime.fromtimestamp(self.taken_ms / 1000).astimezone()


def file_name(taken_ms: int, kind: str) -> str:
    moment = datetime.fromtimestamp(taken_ms / 1000, UTC)
    return f"booking-{moment.strftime(_TIME_FORMAT)}.{taken_ms % 1000:03d}Z-{kind}.db"


def parse_name(path: Path) -> Backup | None:
    match = _NAME.match(path.name)
    if match is None or match.group(2) not in KINDS:
        return None
    stamp, millis = match.group(1)[:-5], int(match.group(1)[-4:-1])
    moment = datetime.strptime(stamp, _TIME_FORMAT).replace(tzinfo=UTC)
    return Backup(path, int(moment.timestamp()) * 1000 + millis, match.group(2))


def list_backups(folder: Path) -> list[Backup]:
    """The backups in `folder`, oldest first (files of other names are left alone)."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    found = [backup for path in entries if (backup := parse_name(path)) and path.is_file()]
    return sorted(found, key=lambda backup: backup.taken_ms)


def newest(folder: Path) -> Backup | None:
    backups = list_backups(folder)
    return backups[-1] if backups else None


def write_copy(db_path: str, target: Path) -> str:
    """A consistent, marked, single-file copy of the database at `target`; the quick_check
    result of the copy ("ok" or SQLite's first complaint). `target` must not exist."""
    if not os.path.exists(db_path):
        raise BackupError(f"No database at {db_path}; pass --db.")
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name.")
    partial = target.with_name(target.name + ".partial")
    try:
        _online_copy(db_path, partial)
        result = _finish_copy(partial)
        os.replace(partial, target)
    except (sqlite3.Error, OSError, store.CannotOpen) as error:
        partial.unlink(missing_ok=True)
        cause = error.__cause__ if isinstance(error, store.CannotOpen) else error
        reason = getattr(cause, "strerror", None) or str(cause)
        raise BackupError(f"Cannot back up {db_path} to {target}: {reason}.") from None
    return result


def _online_copy(db_path: str, partial: Path) -> None:
    source = store.open_db(db_path)
    try:
        target = sqlite3.connect(partial)
        try:
            with target:
                source.conn.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _finish_copy(partial: Path) -> str:
    copy = store.open_db(str(partial))
    try:
        store.mark_as_backup(copy)  # restored later, it takes a new node id (SYNC.md §3a)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        rows = copy.execute("PRAGMA quick_check").fetchall()
    finally:
        copy.close()
    return "ok" if rows == [("ok",)] else str(rows[0][0])


def take(db_path: str, folder: Path, kind: str, now_ms: int | None = None) -> Backup:
    """A backup of `kind` into `folder`; its integrity check is noted for the health checks.
    Raises BackupError, also noted, so the status page can say why backups stopped."""
    assert kind in KINDS, kind
    taken = now_ms if now_ms is not None else wall_ms()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"Cannot make the backups folder {folder}: {error.strerror}.") from None
    target = folder / file_name(taken, kind)
    try:
        check = write_copy(db_path, target)
    except BackupError as error:
        _note(folder, failed_at=taken, failure=str(error))
        raise
    _note(folder, checked_at=taken, check=check, failed_at=None, failure=None)
    return Backup(target, taken, kind)


def status(folder: Path) -> dict[str, object]:
    """{"checked_at", "check", "failed_at", "failure"} of the latest backups; {} if none yet."""
    try:
        return json.loads((folder / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _note(folder: Path, **values: object) -> None:
    state = {**status(folder), **values}
    try:
        (folder / STATUS_FILE).write_text(json.dumps(state), encoding="utf-8")
    except OSError:
        pass  # the backup itself stands; health then reads the backups' own times


def to_keep(backups: list[Backup], daily: int, weekly: int) -> set[Path]:
    """Which backups survive pruning (see the module's docstring)."""
    keep = {backup.path for backup in backups if backup.kind == "manual"}
    for kind in ("before-upgrade", "before-restore"):
        of_kind = [backup for backup in backups if backup.kind == kind]
        if of_kind:
            keep.add(of_kind[-1].path)
    newest_first = list(reversed(backups))
    for period, count in ((_day, daily), (_week, weekly)):
        seen: list[object] = []
        for backup in newest_first:
            key = period(backup)
            if key not in seen and len(seen) < count:
                seen.append(key)
                keep.add(backup.path)
    return keep


def _day(backup: Backup) -> object:
    return backup.local_time.date()


def _week(backup: Backup) -> object:
    return backup.local_time.isocalendar()[:2]


def prune(folder: Path, daily: int, weekly: int) -> list[Path]:
    """Delete the backups pruning does not keep; the deleted paths."""
    backups = list_backups(folder)
    keep = to_keep(backups, daily, weekly)
    removed = []
    for backup in backups:
        if backup.path not in keep:
            backup.path.unlink(missing_ok=True)
            removed.append(backup.path)
    return removed
