"""Alembic revisions of the PostgreSQL schema, applied in order at start; append-only."""
