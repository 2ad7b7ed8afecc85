"""Bring a PostgreSQL hub database to the newest schema (migrations/postgresql), at start.

Alembic runs the revisions. Several hub processes may start at once on one database: each
migrates in one transaction that first takes a transaction-scoped advisory lock, so one of
them migrates while the others wait, then find nothing left to do. PostgreSQL releases the lock
when the transaction ends, a crash included, so no stale lock is ever left behind (as a lock
row in a table would be). DDL is transactional in PostgreSQL: a revision that fails leaves
the schema as it was.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

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
