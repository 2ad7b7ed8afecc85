"""One background job run every few seconds: the sync worker, the outbox sender, the backups.

Each is one APScheduler job on a daemon thread of its own. It runs at once, then every
`interval_s`; never two runs of one job at a time (`max_instances=1`), and runs missed while
one was slow collapse into one (`coalesce`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler


class PeriodicJob:
    def __init__(self, job_id: str, run: Callable[[], None], interval_s: int) -> None:
        self.job_id = job_id
        self.run = run
        self.interval_s = interval_s
        self.scheduler = BackgroundScheduler(daemon=True)

    def start(self) -> None:
        self.scheduler.add_job(
            self.run,
            "interval",
            seconds=self.interval_s,
            id=self.job_id,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(),
        )
        self.scheduler.start()

    def run_now(self) -> None:
        """Run as soon as the current run (if any) ends, instead of at the next interval."""
        self.scheduler.modify_job(self.job_id, next_run_time=datetime.now())

    def stop(self, *, wait: bool = False) -> None:
        """Stop the thread; with `wait`, only after a run in progress has finished."""
        self.scheduler.shutdown(wait=wait)
