"""The background sender: one APScheduler job inside `booking serve` (never create_app).

As the sync worker (sync/worker.py): one run at a time, missed runs coalesced, its own
connection. Retries wait in the outbox (`next_attempt_at`), so a run never sleeps.
"""

from __future__ import annotations

import logging

from app import store
from app.core.periodic import PeriodicJob
from app.outbound.config import OutboundConfig
from app.outbound.sender import send_due

log = logging.getLogger(__name__)
JOB_ID = "outbound"


class OutboundWorker:
    def __init__(self, db_path: str, config: OutboundConfig, interval: int) -> None:
        self.db_path = db_path
        self.config = config
        self.interval = interval  # `booking serve` prints it
        self.job = PeriodicJob(JOB_ID, self.run_once, interval)

    def start(self) -> None:
        self.job.start()

    def run_now(self) -> None:
        self.job.run_now()

    def stop(self) -> None:
        self.job.stop()

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
