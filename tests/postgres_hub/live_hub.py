"""What the live tests of a hub on PostgreSQL share: the hub processes' environment."""

from __future__ import annotations

from pathlib import Path

from tests.live.sync_cluster import SERVER_ENV


def hub_env(folder: Path) -> dict[str, str]:
    """A hub process's environment: logs and nightly backups in the test's folder (beside a
    `postgresql://` database there is no folder to put them in), and the worker threads the
    README advises for a hub on PostgreSQL (a request waiting for another process's lock
    holds only its own thread)."""
    return {
        **SERVER_ENV,
        "BOOKING_THREADS": "4",
        "BOOKING_LOG_DIR": str(folder / "logs"),
        "BOOKING_BACKUP_DIR": str(folder / "backups"),
    }
