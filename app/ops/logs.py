"""Log files a person can send: rotating files in the log folder, and a support bundle.

`booking serve` writes every log line at INFO and above to `booking.log` (rotated at 1 MB,
five old files kept: a few weeks of a shop's requests), and warnings to stderr as before.
What is logged is chosen so that no secret and no customer's personal data reaches a file:
requests are logged by their route pattern (`/modules/booking/customers/<customer_id>`), never
their path, query string, headers or body (app/web/request_log.py); sync rounds by their counts.
"""

from __future__ import annotations

import atexit
import collections
import logging
import logging.handlers
import threading
import zipfile
from pathlib import Path

LOG_NAME = "booking.log"
MAX_BYTES = 1_000_000
KEEP_FILES = 5
WRITE_EVERY_S = 0.2  # how long a line may wait before the writer puts it in the file
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogError(Exception):
    """The log folder cannot be written; the message is fit for a person."""


def configure(folder: Path) -> Path:
    """Send INFO and above to the rotating log file, WARNING and above to stderr; the file.

    A request only appends its record to a list: a writer thread wakes a few times a second
    and writes what has gathered (see _Gathered), so the file's work stays off the request path.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_NAME, maxBytes=MAX_BYTES, backupCount=KEEP_FILES, encoding="utf-8"
        )
    except OSError as error:
        raise LogError(
            f"Cannot write logs to {folder}: {error.strerror}; set BOOKING_LOG_DIR elsewhere."
        ) from None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)  # what a terminal showed before there were log files
    stop()
    gathered = _Gathered([handler, console])
    root = logging.getLogger()
    root.addHandler(gathered)
    root.setLevel(logging.INFO)
    gathered.start()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # "job executed" every minute
    return folder / LOG_NAME


class _Gathered(logging.Handler):
    """Records gathered on the request path, written by one thread every WRITE_EVERY_S.

    The standard QueueHandler wakes its listener for every record: on a busy server that is a
    thread switch per request, measured at a sixth of a booking create's CPU. Appending to a
    deque takes no lock and wakes no one. What a hard crash can lose is the last fraction of a
    second of log lines, never data; a normal stop writes everything out.
    """

    def __init__(self, targets: list[logging.Handler]) -> None:
        super().__init__()
        self.targets = targets
        self._records: collections.deque[logging.LogRecord] = collections.deque()
        self._stopping = threading.Event()
        self._writer = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self._writer.start()

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        # No handler lock: deque.append is atomic. The message is merged now, because its
        # arguments may change before the writer formats it.
        record.msg, record.args = record.getMessage(), None
        self._records.append(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)

    def _run(self) -> None:
        while not self._stopping.wait(WRITE_EVERY_S):
            self.write_out()
        self.write_out()

    def write_out(self) -> None:
        while self._records:
            record = self._records.popleft()
            for target in self.targets:
                if record.levelno >= target.level:
                    target.handle(record)

    def stop(self) -> None:
        """Write out what is gathered and close the files."""
        self._stopping.set()
        self._writer.join()
        for target in self.targets:
            target.close()


def stop() -> None:
    """Write out what is gathered and close the files (at exit, and before configuring again
    in one process, so the handler is replaced rather than added to)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Gathered)]:
        root.removeHandler(old)
        old.stop()


atexit.register(stop)


def log_files(folder: Path) -> list[Path]:
    """booking.log and its rotated predecessors, newest first."""
    return sorted(folder.glob(LOG_NAME + "*"), key=lambda path: path.name)


def write_bundle(target: Path, folder: Path, report_text: str, report_json: str) -> list[str]:
    """A zip for support: the health report (text and JSON) and every log file; its entries."""
    if target.exists():
        raise LogError(f"{target} already exists; choose a new file name.")
    try:
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("health.txt", report_text)
            bundle.writestr("health.json", report_json)
            for path in log_files(folder):
                bundle.write(path, f"logs/{path.name}")
            return bundle.namelist()
    except OSError as error:
        target.unlink(missing_ok=True)
        raise LogError(f"Cannot write {target}: {error.strerror or error}.") from None
