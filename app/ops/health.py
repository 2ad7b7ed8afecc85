"""The health checks of `booking doctor`, the UI's status page and its banner.

Each check says in a sentence how things stand and whether a person is needed:

- database integrity: `PRAGMA quick_check`, run live by `booking doctor`; the pages show the
  check run on each backup's copy (a live check of a large file would hold a page for seconds);
- free disk space where the database and the backups live (under DISK_WARN_MB);
- the last successful sync (the hub unreachable for a day);
- the clock's difference from the hub's, measured at each sync (more than a minute);
- the newest backup (none for two days), and a backup that failed;
- the service's version.

A hub on PostgreSQL is checked for an answer and for the laptops it serves: its pages, disk
and backups are the server's, and a hub has no hub of its own to sync or compare clocks with.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from app import store
from app.core.times import wall_ms
from app.ops import backups
from app.store import Connection
from app.store.postgres import is_postgres

DAY_MS = 86_400_000
HUB_SILENCE_MS = DAY_MS  # the hub unreachable this long needs a person
BACKUP_AGE_MS = 2 * DAY_MS  # no backup this long needs a person
CLOCK_TOLERANCE_MS = 60_000  # a clock off by more than a minute needs a person


@dataclass(frozen=True)
class Check:
    name: str
    summary: str  # one sentence a shop owner can act on
    needs_person: bool = False


@dataclass(frozen=True)
class Where:
    """What the checks look at, besides the database connection."""

    db_path: str
    backup_folder: Path
    hub_url: str | None
    disk_warn_mb: int


def ago(then_ms: int, now_ms: int) -> str:
    """'3 minutes ago', '5 hours ago', '2 days ago' (a clock set back shows 'just now')."""
    seconds = max(0, (now_ms - then_ms) // 1000)
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def integrity_live(db: Connection) -> Check:
    try:
        rows = db.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as error:  # damaged beyond what the check can walk
        rows = [(str(error),)]
    if rows == [("ok",)]:
        return Check("Database", "The database passed its integrity check just now.")
    return Check(
        "Database",
        f"The database failed its integrity check ({rows[0][0]}); restore the newest good "
        "backup (booking backup list, then booking restore NAME).",
        needs_person=True,
    )


def integrity_at_backup(folder: Path, now_ms: int) -> Check:
    state = backups.status(folder)
    checked_at, result = state.get("checked_at"), state.get("check")
    if not isinstance(checked_at, int):
        return Check("Database", "Not checked yet; each backup checks the database's integrity.")
    when = ago(checked_at, now_ms)
    if result == "ok":
        return Check("Database", f"The database passed its integrity check {when}.")
    return Check(
        "Database",
        f"The database failed its integrity check {when} ({result}); run booking doctor, and "
        "restore the newest good backup if it fails again.",
        needs_person=True,
    )


def disk(where: Where) -> Check:
    folders = {os.path.dirname(os.path.abspath(where.db_path)), str(where.backup_folder)}
    lowest: tuple[int, str] | None = None
    for folder in sorted(folders):
        existing = _nearest_existing(Path(folder))
        free = shutil.disk_usage(existing).free
        if lowest is None or free < lowest[0]:
            lowest = (free, folder)
    assert lowest is not None
    free_mb, folder = lowest[0] // 1_000_000, lowest[1]
    if free_mb < where.disk_warn_mb:
        return Check(
            "Disk",
            f"Only {free_mb} MB free on the disk of {folder}; free some space (empty the "
            "bin, remove large files) before the database can no longer save bookings.",
            needs_person=True,
        )
    return Check("Disk", f"{free_mb:,} MB free on the disk of {folder}.")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def sync(state: dict[str, str | None], hub_url: str | None, now_ms: int) -> Check:
    if not hub_url:
        return Check("Sync", "This laptop does not sync (no hub is set).")
    last = int(state["last_success"]) if state.get("last_success") else None
    failing = int(state["failing_since"]) if state.get("failing_since") else None
    error = state.get("last_error")
    if last is not None and now_ms - last < HUB_SILENCE_MS:
        return Check("Sync", f"Last synced with {hub_url} {ago(last, now_ms)}.")
    silent_since = last if last is not None else failing
    if silent_since is not None and now_ms - silent_since >= HUB_SILENCE_MS:
        return Check(
            "Sync",
            f"The hub at {hub_url} has not been reached since {ago(silent_since, now_ms)} "
            f"({error or 'no answer'}); check the network and that the hub runs. Bookings "
            "made here are kept and sent when it answers.",
            needs_person=True,
        )
    return Check("Sync", f"Not synced with {hub_url} yet ({error or 'first sync under way'}).")


def clock(state: dict[str, str | None]) -> Check:
    raw = state.get("hub_clock_offset_ms")
    if raw is None:
        return Check("Clock", "Not compared with the hub's yet (each sync compares them).")
    offset = int(raw)
    side = "behind" if offset > 0 else "ahead of"
    seconds = abs(offset) // 1000
    if abs(offset) > CLOCK_TOLERANCE_MS:
        return Check(
            "Clock",
            f"This laptop's clock is {seconds} seconds {side} the hub's; turn on "
            "'set time automatically' in the system's date settings.",
            needs_person=True,
        )
    return Check("Clock", f"Within {max(seconds, 1)} seconds of the hub's clock.")


def backup(folder: Path, now_ms: int) -> Check:
    newest = backups.newest(folder)
    failure = backups.status(folder).get("failure")
    failed_at = backups.status(folder).get("failed_at")
    last_failed = isinstance(failed_at, int) and (newest is None or failed_at > newest.taken_ms)
    because = f" The last attempt failed: {failure}" if last_failed else ""
    if newest is None:
        return Check(
            "Backups",
            f"No backup yet in {folder}; `booking serve` takes one.{because}",
            needs_person=True,
        )
    when = ago(newest.taken_ms, now_ms)
    if now_ms - newest.taken_ms > BACKUP_AGE_MS:
        return Check(
            "Backups",
            f"The newest backup was taken {when}; is `booking serve` running?{because}",
            needs_person=True,
        )
    return Check("Backups", f"Last backup taken {when} ({newest.name}).{because}")


def version_check() -> Check:
    return Check("Version", f"Booking service {version('booking-service')}.")


def run(db: Connection, where: Where, *, live_integrity: bool) -> list[Check]:
    """Every check. `live_integrity` runs quick_check now (doctor) instead of reading the last
    backup's (the pages, which must stay quick)."""
    now = wall_ms()
    if is_postgres(where.db_path):
        return [*on_postgres(db), laptops(laptop_keys(db), now), version_check()]
    state = store.sync_state(db)
    # A SQLite file with no hub of its own that laptops sync with is a hub: say so, rather
    # than "this laptop does not sync".
    bound = laptop_keys(db)
    serves_laptops = not where.hub_url and bool(bound)
    return [
        integrity_live(db) if live_integrity else integrity_at_backup(where.backup_folder, now),
        disk(where),
        *(
            [laptops(bound, now)]
            if serves_laptops
            else [sync(state, where.hub_url, now), clock(state)]
        ),
        backup(where.backup_folder, now),
        version_check(),
    ]


def on_postgres(db: Connection) -> list[Check]:
    """A hub on PostgreSQL: the server keeps its pages, disk and backups, not this program
    (README § The hub on PostgreSQL); what is checked here is that it answers."""
    db.execute("SELECT 1")  # StorageUnavailable, said in one sentence, when it does not
    return [
        Check("Database", "The PostgreSQL database answers; the server checks its own pages."),
        Check(
            "Backups",
            "PostgreSQL keeps this hub's backups (pg_dump, or base backups and WAL archiving); "
            "`booking backup` writes a dump now.",
        ),
    ]


def laptops(bound: list[dict[str, Any]], now_ms: int) -> Check:
    """A hub's side of sync: the laptops whose sync keys it serves (`bound`, laptop_keys),
    and when one last sent changes. A hub has no hub of its own to reach, nor a clock to
    compare with one."""
    if not bound:
        return Check(
            "Laptops",
            "No laptop has synced with this hub yet; give each a sync key "
            "(booking keys create --scopes sync).",
        )
    count = f"{len(bound)} laptop{'s' if len(bound) != 1 else ''}"
    pushes = [key["pushed_at"] for key in bound if key["pushed_at"] is not None]
    if not pushes:
        return Check("Laptops", f"{count} sync with this hub; none has sent changes yet.")
    return Check(
        "Laptops", f"{count} sync with this hub; the last changes came {ago(max(pushes), now_ms)}."
    )


def laptop_keys(db: Connection) -> list[dict[str, Any]]:
    """The live sync keys a laptop has claimed (bound to its node)."""
    return [key for key in store.list_api_keys(db) if key["node_id"] and key["revoked_at"] is None]


def needing_person(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check.needs_person]


def as_text(checks: list[Check]) -> str:
    return "".join(
        f"{'!!' if check.needs_person else 'ok'}  {check.name + ':':<10}{check.summary}\n"
        for check in checks
    )


def as_json(checks: list[Check], extra: dict[str, Any]) -> str:
    return json.dumps({**extra, "checks": [asdict(check) for check in checks]}, indent=2)
