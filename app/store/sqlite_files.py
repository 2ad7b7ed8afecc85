"""SQLite's database files: creating and migrating one, and checkpointing its WAL off the commits.

Migrations stay on sqlite-utils (migrations/migrations.py); a PostgreSQL backend brings its own
migration tool and its own `init_database` with the same signature.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from app.core.ids import new_node_id
from app.store import replication
from app.store.connection import Connection
from app.store.errors import CannotOpen, StoreError
from app.store.sqlite import (
    BACKSTOP_AUTOCHECKPOINT_PAGES,
    SqliteConnection,
    checkpointed_paths,
    open_db,
    reason,
)
from migrations.migrations import migrations

CHECKPOINT_INTERVAL_S = 0.25
SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's own default

log = logging.getLogger(__name__)

# Run inside migrate()'s transaction to decide whether this file is the replica it says it is
# (a restored or copied file takes a new node id before it writes anything; SYNC.md §3a).
# The sync layer owns that decision: sync.identity.init_database passes it in.
Settle = Callable[[Connection], None]


def init_database(path: str, settle: Settle) -> str:
    """Create (with parent folders) or migrate the database at `path`; return its node id.

    Raises CannotOpen, with a sentence fit for a person, when that fails.
    """
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CannotOpen(f"Cannot open the database at {path}: {reason(error)}.") from error
    db = open_db(path)
    try:
        migrate(db, settle)
        return replication.node_id(db)
    except (sqlite3.Error, StoreError) as error:
        cause = error.__cause__ if isinstance(error, StoreError) and error.__cause__ else error
        raise CannotOpen(f"Cannot prepare the database at {path}: {reason(cause)}.") from error
    finally:
        db.close()


def migrate(db: SqliteConnection, settle: Settle) -> None:
    """Apply pending migrations; give a database its node id, secrets and organization id.

    Missing node_meta keys are added on every run, so an older database gains new secrets.
    """
    tables = Database(db.conn, strict=True, execute_plugins=False)
    if db.scalar("PRAGMA journal_mode") != "wal":
        tables.enable_wal()  # persistent, and cannot run inside a transaction
    migrations.apply(tables)
    with db.transaction():
        for key, make in (
            ("node_id", new_node_id),
            ("cursor_secret", _new_secret),
            ("session_secret", _new_secret),  # signs the browser UI's session cookie
            ("organization_id", _new_uuid),
            ("epoch", new_node_id),
        ):
            db.execute(
                "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [key, make()],
            )
        settle(db)


def _new_secret() -> str:
    return secrets.token_hex(32)


def _new_uuid() -> str:
    return str(uuid.uuid4())


class Checkpointer:
    """A daemon thread that checkpoints the WAL every CHECKPOINT_INTERVAL_S seconds.

    Left to itself, SQLite checkpoints (copies the WAL into the database file, with an fsync)
    inside whichever COMMIT takes the WAL past 1,000 pages: about every 80 booking creates,
    one request held the write lock 5-10 ms longer while every writer queued behind it
    waited. `booking serve` runs this instead, off the request path; sqlite3 lets go of the
    GIL while it works. PASSIVE checkpoints never wait for readers or writers, and their
    fsync means that under `synchronous=NORMAL` a commit is safe from power loss within a
    fraction of a second.
    """

    def __init__(self, path: str, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self._path = os.path.realpath(path)
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)

    def start(self) -> None:
        checkpointed_paths.add(self._path)  # connections opened from now on leave it to us
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        checkpointed_paths.discard(self._path)

    def _run(self) -> None:
        db = open_db(self._path)
        try:
            while not self._stopping.wait(self._interval_s):
                self._checkpoint(db.conn)
            self._checkpoint(db.conn)
        finally:
            db.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:  # the next round tries again; the WAL keeps every commit
            log.warning("WAL checkpoint failed: %s", error)


@contextmanager
def checkpoints_aside(db: Connection) -> Iterator[None]:
    """While the block runs, a Checkpointer checkpoints the WAL of `db`'s file instead of its
    commits, unless one does already (`booking serve` runs one) or the file is not SQLite's.

    For a long run of writes outside `booking serve`, such as `booking sync` pulling a hub's
    history: a commit that takes the WAL past 1,000 pages otherwise copies it into the
    database file itself, about every seventh page of 500 changes, while the pull waits.
    """
    path = db.file_path() if isinstance(db, SqliteConnection) else ""
    if not path or os.path.realpath(path) in checkpointed_paths:
        yield
        return
    checkpointer = Checkpointer(path)
    checkpointer.start()
    db.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_AUTOCHECKPOINT_PAGES}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES}")
        checkpointer.stop()
