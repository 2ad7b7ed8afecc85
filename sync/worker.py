"""The background sync worker: one APScheduler job inside `booking serve` (never create_app).

One run at a time (max_instances=1), missed runs coalesced. A failure backs off
exponentially with jitter up to 15 minutes, honouring the hub's Retry-After; until the next
attempt is due the job returns at once. Requests never wait on the network: the job opens
its own connection and the API's writes only queue on the write lock for one transaction.
"""

from __future__ import annotations

import logging
import random
import time

from app import store
from app.core.periodic import PeriodicJob
from app.core.times import wall_ms
from sync.client import HubClient, HubRejected, HubUnavailable
from sync.engine import sync_once

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 15 * 60
JOB_ID = "sync"


def backoff_seconds(failures: int, interval: int, retry_after: float | None, rng=random) -> float:
    """Exponential in the failures so far, with jitter, capped at 15 minutes."""
    delay = min(MAX_BACKOFF_S, interval * 2 ** max(failures - 1, 0))
    delay = delay * (0.5 + rng.random() / 2)
    return min(MAX_BACKOFF_S, max(delay, retry_after or 0))


class SyncWorker:
    def __init__(self, db_path: str, hub_url: str, hub_key: str, interval: int) -> None:
        self.db_path = db_path
        self.hub_url = hub_url
        self.interval = interval
        self.client = HubClient(hub_url, hub_key)
        self.job = PeriodicJob(JOB_ID, self.run_once, interval)

    def start(self) -> None:
        self.job.start()

    def run_now(self) -> None:
        """Run as soon as possible, even while backing off."""
        db = store.open_db(self.db_path)
        try:
            store.set_sync_state(db, next_attempt=None)
        finally:
            db.close()
        self.job.run_now()

    def stop(self) -> None:
        self.job.stop()

    def run_once(self) -> None:
        db = store.open_db(self.db_path)
        try:
            state = store.sync_state(db)
            due = state.get("next_attempt")
            if due and int(due) > wall_ms():
                return
            store.set_sync_state(db, last_attempt=wall_ms())
            # Since when the hub has not been reached: health asks for a person after a day.
            failing_since = state.get("failing_since") or wall_ms()
            started = time.monotonic()
            try:
                report = sync_once(db, self.client)
            except HubUnavailable as error:
                failures = int(state.get("failures") or 0) + 1
                wait = backoff_seconds(failures, self.interval, error.retry_after)
                store.set_sync_state(
                    db,
                    failures=failures,
                    last_error=str(error),
                    failing_since=failing_since,
                    next_attempt=wall_ms() + int(wait * 1000),
                )
                log.warning("Sync round failed (%s); next try in %.0f s.", error, wait)
            except HubRejected as error:
                store.set_sync_state(
                    db,
                    last_error=str(error),
                    failures=0,
                    next_attempt=None,
                    failing_since=failing_since,
                )
                log.error("Sync round refused by the hub: %s", error)
            else:
                store.set_sync_state(db, failures=0, next_attempt=None)
                log.info(
                    "Sync round: pushed %d, pulled %d, applied %d in %.0f ms.",
                    report.pushed,
                    report.pulled,
                    report.applied,
                    (time.monotonic() - started) * 1000,
                )
        except Exception:  # a bug must not kill the scheduler thread; it is logged
            log.exception("Sync run crashed")
        finally:
            db.close()
