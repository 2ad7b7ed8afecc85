"""Log files a person can send: rotating files in the log folder, and a support bundle.

`booking serve` writes every log line at INFO and above to `booking.log` (rotated at 1 MB,
five old files kept: a few weeks of a shop's requests), and warnings to stderr as before.
What is logged is chosen so that no secret and no customer's personal data reaches a file:
requests are logged by their route pattern (`/modules/booking/customers/<customer_id>`), never
their path, query string, headers or body (app/web/request_log.py); sync rounds by their counts.
"""

from __future__ import annotations

import logging
import logging.handlers
import zipfile
from pathlib import Path

LOG_NAME = "booking.log"
MAX_BYTES = 1_000_000
KEEP_FILES = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogError(Exception):
    """The log folder cannot be written; the message is fit for a person."""


def configure(folder: Path) -> Path:
    """Send INFO and above to the rotating log file, WARNING and above to stderr; the file."""
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
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "booking_log", False)]:
        root.removeHandler(old)  # configured again in one process: replace, not add
        old.close()
    for new in (handler, console):
        new.booking_log = True  # type: ignore[attr-defined]
        root.addHandler(new)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # "job executed" every minute
    return folder / LOG_NAME


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
