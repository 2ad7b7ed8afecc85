"""The nightly backup: one APScheduler job inside `booking serve`, beside the sync worker.

A shop laptop is often off at night, so the job does not wait for one moment: every ten
minutes (and once at start) it asks whether a backup is due, that is whether the newest backup
is older than the last time the clock passed BACKUP_HOUR, and if so takes one and prunes the
folder. A laptop switched on at 9 takes last night's backup at 9; a database without any backup
gets one at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from app.core.periodic import PeriodicJob
from app.ops import backups

log = logging.getLogger(__name__)
JOB_ID = "nightly-backup"
CHECK_EVERY_S = 600


def last_due(now: datetime, hour: int) -> datetime:
    """The latest moment at or before `now` when the local clock passed `hour`:00."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if now >= today else today - timedelta(days=1)


def is_due(newest: backups.Backup | None, now: datetime, hour: int) -> bool:
    return newest is None or newest.local_time < last_due(now, hour)


class BackupScheduler:
    def __init__(
        self,
        db_path: str,
        folder: Path,
        *,
        hour: int,
        daily: int,
        weekly: int,
        check_every_s: int = CHECK_EVERY_S,
    ) -> None:
        self.db_path = db_path
        self.folder = folder
        self.hour = hour
        self.daily = daily
        self.weekly = weekly
        self.job = PeriodicJob(JOB_ID, self.run_once, check_every_s)

    def start(self) -> None:
        self.job.start()

    def stop(self) -> None:
        self.job.stop(wait=True)  # never stop half-way through a backup

    def run_once(self) -> None:
        try:
            if not is_due(backups.newest(self.folder), datetime.now().astimezone(), self.hour):
                return
            taken = backups.take(self.db_path, self.folder, "nightly")
            removed = backups.prune(self.folder, self.daily, self.weekly)
            log.info("Backup written: %s; %d older backups pruned.", taken.name, len(removed))
        except backups.BackupError as error:
            log.error("The nightly backup failed: %s", error)
        except Exception:  # a bug must not kill the scheduler thread; it is logged
            log.exception("The nightly backup crashed")
