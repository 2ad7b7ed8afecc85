"""Bring a PostgreSQL hub database to the newest schema (migrations/postgresql), at start.

Alembic runs the revisions. Several hub processes may start at once on one database: each
migrates in one transaction that first takes a transaction-scoped advisory lock, so one of
them migrates while the others wait, then find nothing left to do. PostgreSQL releases the lock
when the transaction ends, a crash included, so no stale lock is ever left behind (as a lock
row in a table would be). DDL is transactional in PostgreSQL: a revision that fails leaves
the schema as it was.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from app.core.ids import new_node_id
from app.store.connection import Connection
from app.store.errors import CannotOpen, StoreError

# sync.identity's decision whether this database is the replica it says it is (SYNC.md §3a).
Settle = Callable[[Connection], None]

# Any constant both processes agree on; it names "the schema migration" among advisory locks.
MIGRATION_LOCK = 0x626F6F6B  # "book"

SCRIPTS = Path(__file__).resolve().parents[2] / "migrations" / "postgresql"


def migrate(url: str) -> str:
    """Apply every pending revision to the database at `url`; return the revision now applied.

    SQLAlchemy and Alembic are imported here, not at the top: a laptop on SQLite never loads
    them, and a hub loads them once, at start.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(url), poolclass=NullPool
    )
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            config = Config()
            config.set_main_option("script_location", str(SCRIPTS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            return MigrationContext.configure(connection).get_current_revision() or ""
    finally:
        engine.dispose()


def init_database(url: str, settle: Settle) -> str:
    """Migrate the database at `url` and give it a node id, secrets and epoch; its node id.

    Raises CannotOpen, with a sentence fit for a person, when the database cannot be reached
    or prepared.
    """
    from app.store import postgres, replication

    postgres.reachable(url)
    try:
        migrate(url)
    except psycopg.Error as error:
        raise CannotOpen(f"Cannot prepare the database {postgres.redact(url)}: {error}") from error
    db = postgres.open_db(url)
    try:
        with db.transaction():
            seed_identity(db)
            settle(db)
        return replication.node_id(db)
    except StoreError as error:
        raise CannotOpen(f"Cannot prepare the database {postgres.redact(url)}: {error}") from error
    finally:
        db.close()


def seed_identity(db: Connection) -> None:
    """Give a new hub its node id, secrets, organization id and epoch; keep an existing one's."""
    for key, make in (
        ("node_id", new_node_id),
        ("cursor_secret", lambda: secrets.token_hex(32)),
        ("session_secret", lambda: secrets.token_hex(32)),
        ("organization_id", lambda: str(uuid.uuid4())),
        ("epoch", new_node_id),
    ):
        db.execute(
            "INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            [key, make()],
        )
