"""`booking import` and `booking export`: customers and bookings as CSV or JSON files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.commands.common import db_option, open_database
from app.domain import transfer
from app.domain.transfer import ImportRefused
from app.web import transfer as files

format_option = click.option(
    "--format",
    "file_format",
    type=click.Choice(files.FORMATS),
    default=None,
    help="csv or json; default: the file name's extension.",
)
kind_argument = click.argument("kind", type=click.Choice(files.KINDS))


@click.command("import")
@db_option
@format_option
@kind_argument
@click.argument("path", type=click.Path(dir_okay=False))
def import_group(db_path: str, file_format: str | None, kind: str, path: str) -> None:
    """Import customers or bookings from a CSV or JSON file, matched by external_id.

    All or nothing: if any row is refused, every refused row is listed with its line and
    nothing is imported. Importing the same file again changes nothing.
    """
    from tqdm import tqdm

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"Cannot read {path}: {error}.") from None
    bars: list[tqdm] = []

    def progress(total: int):
        bars.append(tqdm(total=total, unit=" rows", file=sys.stderr, disable=None))
        return bars[-1].update

    try:
        chosen = files.format_of(path, file_format)
        db = open_database(db_path)
        report = files.import_file(db, kind, text, chosen, progress)
    except files.FileRefused as error:
        raise click.ClickException(str(error)) from None
    except ImportRefused as refused:
        for problem in refused.problems:
            detail = problem.as_detail()
            click.echo(f"{path}, {detail['field']}: {detail['message']}", err=True)
        raise click.ClickException(refused.message) from None
    finally:
        for bar in bars:
            bar.close()
    click.echo(
        f"Imported {kind} from {path}: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged."
    )


@click.command("export")
@db_option
@format_option
@kind_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="The file to write; default: standard output.",
)
def export_group(db_path: str, file_format: str | None, kind: str, output: str | None) -> None:
    """Export customers or bookings as CSV or JSON (every field; re-importable)."""
    from tqdm import tqdm

    try:
        chosen = files.format_of(output or "", file_format) if (output or file_format) else "csv"
    except files.FileRefused as error:
        raise click.ClickException(str(error)) from None
    db = open_database(db_path)
    rows = transfer.export_customers(db) if kind == "customers" else transfer.export_bookings(db)
    columns = transfer.CUSTOMER_COLUMNS if kind == "customers" else transfer.BOOKING_COLUMNS
    bar = tqdm(rows, unit=" rows", file=sys.stderr, disable=None if output else True)
    try:
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                count = files.write_rows(bar, columns, chosen, out)
        else:
            count = files.write_rows(bar, columns, chosen, sys.stdout)
    except OSError as error:
        raise click.ClickException(f"Cannot write {output}: {error}.") from None
    finally:
        bar.close()
        db.close()
    if output:
        click.echo(f"Exported {count} {kind} to {output}.")
