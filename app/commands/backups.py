"""`booking backup [PATH]`, `booking backup list` and `booking restore NAME`."""

from __future__ import annotations

from pathlib import Path

import click

from app.commands.common import db_option, shown
from app.ops import backups, lock, paths, pg_backup, restore, upgrade
from app.store.postgres import is_postgres


class _BackupGroup(click.Group):
    """`booking backup list` lists; anything else (`booking backup`, `booking backup PATH`)
    is the default command, which writes a backup: CLI.md's `booking backup PATH` still works."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["to", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_BackupGroup)
def backup() -> None:
    """Back up the database (to PATH, or to the backups folder), or list the backups."""


@backup.command("to", hidden=True)
@db_option
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def backup_to(db_path: str, path: str | None) -> None:
    """Write a consistent copy of the live database (SQLite online backup; pg_dump for a hub
    on PostgreSQL), while it runs."""
    try:
        if is_postgres(db_path):
            written = pg_backup.dump(
                db_path, Path(path) if path else None, paths.backup_dir(db_path)
            )
            click.echo(f"Backed up {shown(db_path)} to {written} (pg_dump, custom format).")
            click.echo(
                f"Restore it into a new, empty database with: pg_restore --dbname=URL {written}"
            )
            return
        if path is not None:
            check = backups.write_copy(db_path, Path(path))
            written = Path(path)
        else:
            taken = backups.take(db_path, paths.backup_dir(db_path), "manual")
            check, written = "ok", taken.path
    except backups.BackupError as error:
        raise click.ClickException(str(error).rstrip(".") + ".") from None
    click.echo(f"Backed up {db_path} to {written}.")
    if check != "ok":
        click.echo(f"Warning: the copy failed its integrity check ({check}).", err=True)


@backup.command("list")
@db_option
def backup_list(db_path: str) -> None:
    """The backups in the backups folder, oldest first, with when and why each was taken."""
    folder = paths.backup_dir(db_path)
    if is_postgres(db_path):
        _list_dumps(folder)
        return
    found = backups.list_backups(folder)
    if not found:
        click.echo(f"No backups yet in {folder}; `booking serve` takes one every night.")
        return
    click.echo(f"Backups in {folder} (restore one with: booking restore NAME):")
    click.echo(f"{'NAME':48} {'TAKEN (local time)':20} {'KIND':15} SIZE")
    for item in found:
        taken = item.local_time.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{item.name:48} {taken:20} {item.kind:15} {item.size / 1e6:.1f} MB")


def _list_dumps(folder: Path) -> None:
    dumps = pg_backup.list_dumps(folder)
    if not dumps:
        click.echo(f"No dumps yet in {folder}; `booking backup` writes one with pg_dump.")
        return
    click.echo(f"Dumps in {folder} (restore one into a new database with pg_restore):")
    for dump in dumps:
        click.echo(f"{dump.path.name:48} {dump.size / 1e6:.1f} MB")


@click.command("restore")
@db_option
@click.argument("name")
def restore_command(db_path: str, name: str) -> None:
    """Put the backup NAME back in place of the database; the server must be stopped.

    The database it replaces is backed up first (kind before-restore), and the restored copy
    takes a node id of its own, so that sync brings back what was written after the backup.
    """
    if is_postgres(db_path):
        raise click.ClickException(
            "A hub on PostgreSQL is restored with PostgreSQL's own tools, into a new database: "
            f"createdb NEW && pg_restore --no-owner --dbname=postgresql://…/NEW {name}, then "
            "serve with --db that URL (README § The hub on PostgreSQL)."
        )
    folder = paths.backup_dir(db_path)
    try:
        chosen = restore.find(name, folder)
        done = restore.restore(db_path, chosen, folder)
    except (backups.BackupError, lock.ServerRunning, upgrade.NewerDatabase) as error:
        raise click.ClickException(str(error).rstrip(".") + ".") from None
    click.echo(f"Restored {db_path} from {done.backup}.")
    click.echo(f"The database it replaced is kept as {done.saved_as}.")
    click.echo(
        f"It was node {done.old_node} and is node {done.new_node} from now on; its next sync "
        "sends what it writes and brings back what the hub holds."
    )


def register(cli: click.Group) -> None:
    cli.add_command(backup)
    cli.add_command(restore_command)
