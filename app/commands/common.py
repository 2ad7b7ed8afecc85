"""What every `booking` command shares: the --db option and opening the database for use."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import click

from app import store
from app.ops import backups, paths, upgrade
from app.settings import SETTINGS


def default(name: str) -> object:
    return SETTINGS[name][0]


def _resolve_db(_context: click.Context, _param: click.Parameter, value: str | None) -> str:
    return paths.database(value)


db_option = click.option(
    "--db",
    "db_path",
    envvar="BOOKING_DB",
    default=None,
    callback=_resolve_db,
    help=SETTINGS["DB"][1],
)


def count_option(flag: str, name: str, *, minimum: int, maximum: int | None = None) -> Any:
    """An integer option that reads BOOKING_<name> and defaults to the setting."""
    return click.option(
        flag,
        envvar=f"BOOKING_{name}",
        type=click.IntRange(min=minimum, max=maximum),
        default=default(name),
        show_default=True,
        help=SETTINGS[name][1],
    )


def open_database(db_path: str) -> Any:
    """Refuse a newer database, back up one about to be migrated, migrate; a connection."""
    try:
        taken = upgrade.open_for_use(db_path, paths.backup_dir(db_path))
    except (store.CannotOpen, upgrade.NewerDatabase, backups.BackupError) as error:
        raise click.ClickException(str(error).rstrip(".") + ".") from None
    if taken is not None:
        click.echo(f"Backed up the database before upgrading it: {taken.path}")
    return store.open_db(db_path)


def backup_folder(db_path: str) -> Path:
    return paths.backup_dir(db_path)


def program() -> str:
    """How to run this command again as it was run: `booking` when that is on the PATH, else
    the path it was started by (.venv/bin/booking after `make run`)."""
    started = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    on_path = shutil.which("booking")
    if started is None or started.name not in ("booking", "booking.exe"):
        return "booking"
    if on_path and Path(on_path).resolve() == started:
        return "booking"
    try:
        return str(started.relative_to(Path.cwd()))
    except ValueError:
        return str(started)
