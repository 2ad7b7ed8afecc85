"""Alembic's entry point: runs the revisions on the connection app.store.postgres_schema opened.

That connection already holds the transaction-scoped advisory lock that lets one hub process
at a time migrate, so this file only hands it to Alembic.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
