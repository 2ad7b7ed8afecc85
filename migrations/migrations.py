"""The SQLite schema, only ever changed by appending a migration (never edit a shipped one).

One file per migration in migrations/sqlite/, named mNNNN_what.py and registered here in the
order of their names. Migrations import only sqlite_utils, so they stay runnable whatever the
app code becomes. Times are INTEGER milliseconds since the epoch (UTC); JSON columns hold TEXT.
The PostgreSQL hub's schema follows the same steps as Alembic revisions
(migrations/postgresql/versions/).
"""

import importlib
import pkgutil

from sqlite_utils.migrations import Migrations

from migrations import sqlite

migrations = Migrations("booking")
for found in sorted(pkgutil.iter_modules(sqlite.__path__), key=lambda module: module.name):
    step = importlib.import_module(f"{sqlite.__name__}.{found.name}")
    # The name a database records it under: its file's, as when each was a function here.
    migrations(name=found.name)(step.apply)
