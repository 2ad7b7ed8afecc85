"""The lock `booking serve` holds on its database while it runs.

filelock takes it with fcntl on Unix and msvcrt on Windows. The operating system drops it when
the process ends, even by a crash, so no stale pid file can ever claim a server that is gone.
"""

from __future__ import annotations

from filelock import FileLock, Timeout

from app.ops import paths


class ServerRunning(Exception):
    """Another process serves this database; the message says what to do."""


def acquire(db_path: str, doing: str) -> FileLock:
    """Take the database's serve lock now, or raise ServerRunning naming what was refused."""
    path = paths.lock_file(db_path)
    lock = FileLock(str(path), timeout=0)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # as opening the database would
        lock.acquire()
    except Timeout:
        raise ServerRunning(
            f"`booking serve` is running on {db_path}, so it cannot {doing}; stop it first "
            "(`booking service stop`, or Ctrl-C where it runs) and try again."
        ) from None
    except OSError as error:  # the database's folder cannot be made or written
        reason = (error.strerror or str(error)).rstrip(".").lower()
        raise ServerRunning(f"Cannot open the database at {db_path}: {reason}.") from None
    return lock
