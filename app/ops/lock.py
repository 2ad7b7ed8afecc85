"""The lock `booking serve` holds on its database while it runs (filelock: fcntl on Unix,
msvcrt on Windows). The operating system drops it when the process ends, even by a crash, so
no stale pid file can ever claim a server that is gone."""

from __future__ import annotations

from filelock import FileLock, Timeout

from app.ops import paths


class ServerRunning(Exception):
    """Another process serves this database; the message says what to do."""


def acquire(db_path: str, doing: str) -> FileLock:
    """Take the database's serve lock now, or raise ServerRunning naming what was refused."""
    lock = FileLock(str(paths.lock_file(db_path)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ServerRunning(
            f"`booking serve` is running on {db_path}, so it cannot {doing}; stop it first "
            "(`booking service stop`, or Ctrl-C where it runs) and try again."
        ) from None
    except OSError as error:
        raise ServerRunning(
            f"Cannot take the lock {lock.lock_file} ({error.strerror}), so cannot {doing}."
        ) from None
    return lock
