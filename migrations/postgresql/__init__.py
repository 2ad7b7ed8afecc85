"""The PostgreSQL schema, as Alembic revisions in versions/ (README § The hub on PostgreSQL).

app.store.postgres_schema applies them when a hub starts; a new revision is a new file in
versions/ whose `down_revision` names the newest one. Never edit a shipped revision.
"""
