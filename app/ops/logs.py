"""Log files a person can send: rotating files in the log folder, and a support bundle.

`booking serve` writes every log line at INFO and above to `booking.log` (rotated at 1 MB,
five old files kept: a few weeks of a shop's requests), and warnings to stderr as before.
What is logged is chosen so that no secret and no customer's personal data reaches a file:
requests are logged by their route pattern (`/modules/booking/customers/<customer_id>`), never
their path, query string, headers or body (app/web/request_log.py); sync rounds by their counts.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import zipfile
from pathlib import Path

LOG_NAME = "booking.log"
MAX_BYTES = 1_000_000
KEEP_FILES = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogError(Exception):
    """The log folder cannot be written; the message is fit for a person."""


def configure(folder: Path) -> Path:
    """Send INFO and above to the rotating log file, WARNING and above to stderr; the file.

    Requests only queue their record: a listener thread formats and writes it, so the file's
    write (tens of microseconds on a busy laptop) stays off the request path.
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
    _stop_listener()
    root = logging.getLogger()
    queued = logging.handlers.QueueHandler(queue.SimpleQueue())
    queued.booking_log = True  # type: ignore[attr-defined]
    root.addHandler(queued)
    root.setLevel(logging.INFO)
    listener = logging.handlers.QueueListener(
        queued.queue, handler, console, respect_handler_level=True
    )
    listener.start()
    _listeners.append(listener)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # "job executed" every minute
    return folder / LOG_NAME


_listeners: list[logging.handlers.QueueListener] = []


def _stop_listener() -> None:
    """Write out what is queued and close the files; configured again in one process, replace
    the handlers rather than add to them."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "booking_log", False)]:
        root.removeHandler(old)
    while _listeners:
        listener = _listeners.pop()
        listener.stop()
        for handler in listener.handlers:
            handler.close()


atexit.register(_stop_listener)


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
