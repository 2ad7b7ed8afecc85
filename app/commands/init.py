"""`booking init`: create or migrate a database, or move a SQLite hub onto PostgreSQL (--from)."""

from __future__ import annotations

import os

import click

from app import store
from app.commands.common import db_option, open_database, program, shown
from app.ops import lock
from app.store import postgres
from app.store.postgres_copy import CopyRefused, copy_sqlite_hub

# The tables whose counts `booking init --from` reports; every table is copied and counted.
REPORTED = ("customers", "resources", "bookings", "booking_events", "blockers", "change_log")


@click.command()
@db_option
@click.option(
    "--from",
    "source",
    type=click.Path(dir_okay=False),
    default=None,
    help="A SQLite hub's database file to copy, every row, into the new PostgreSQL database "
    "that --db names (the hub must be stopped).",
)
def init(db_path: str, source: str | None) -> None:
    """Create or migrate the database and print its node id. Safe to run again."""
    if source is not None:
        _move_hub(source, db_path)
        return
    db = open_database(db_path)
    click.echo(f"Database ready at {shown(db_path)}")
    click.echo(f"Node id: {store.node_id(db)}")
    db.close()


def _move_hub(source: str, url: str) -> None:
    """Copy the SQLite hub at `source` into the new database at `url`, with nothing lost."""
    if not postgres.is_postgres(url):
        raise click.ClickException(
            "--from copies a SQLite hub into a PostgreSQL database: pass --db "
            f"{postgres.URL_FORM} (a new, empty database)."
        )
    if not os.path.isfile(source):  # else opening it below would make an empty hub to copy
        raise click.ClickException(
            f"No SQLite database at {source}; pass the hub's file to --from."
        )
    try:
        postgres.reachable(url)
        held = lock.acquire(source, "copy it while it may still change")
    except (store.CannotOpen, lock.ServerRunning) as error:
        raise click.ClickException(str(error).rstrip(".") + ".") from None
    try:
        open_database(source).close()  # at this version's schema (backed up first if migrated)
        counts = copy_sqlite_hub(source, url)
    except CopyRefused as error:
        raise click.ClickException(str(error).rstrip(".") + ".") from None
    finally:
        held.release()
    db = open_database(url)  # settles the copy's identity: the hub's node id goes on
    node = store.node_id(db)
    db.close()
    rows = sum(counts.values())
    reported = ", ".join(f"{counts.get(table, 0)} {table}" for table in REPORTED)
    click.echo(
        f"Copied {source} into {shown(url)}: {rows} rows in {len(counts)} tables ({reported})."
    )
    click.echo(
        f"Node id: {node} (the same hub: laptops sync on with their keys and cursors). "
        f"Serve it with: {program()} serve --db '{shown(url)}'"
    )
