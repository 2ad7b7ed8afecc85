"""The background sender: one APScheduler job inside `booking serve` (never create_app).

As the sync worker (sync/worker.py): one run at a time, missed runs coalesced, its own
connection. Retries wait in the outbox (`next_attempt_at`), so a run never sleeps.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from app import store
from app.outbound.config import OutboundConfig
from app.outbound.sender import send_due

log = logging.getLogger(__name__)
JOB_ID = "outbound"


class OutboundWorker:
    def __init__(self, db_path: str, config: OutboundConfig, interval: int) -> None:
        self.db_path = db_path
        self.config = config
        self.interval = interval
        self.scheduler = BackgroundScheduler(daemon=True)

    def start(self) -> None:
        self.scheduler.add_job(
            self.run_once,
            "interval",
            seconds=self.interval,
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(),
        )
        self.scheduler.start()

    def run_now(self) -> None:
        self.scheduler.modify_job(JOB_ID, next_run_time=datetime.now())

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)

    def run_once(self) -> None:
        db = store.open_db(self.db_path)
        try:
            report = send_due(db, self.config)
            if report.sent or report.failed:
                log.info("Outbox: sent %d, gave up on %d.", len(report.sent), len(report.failed))
        except Exception:  # a bug must not kill the scheduler thread; it is logged
            log.exception("Outbox run crashed")
        finally:
            db.close()
