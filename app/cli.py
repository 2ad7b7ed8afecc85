"""The `booking` command (CLI.md). User mistakes are one sentence on stderr and exit 1."""

from __future__ import annotations

import os
import sys

import click

from app import cli_outbound, store
from app.commands import backups as backup_commands
from app.commands import desktop as desktop_commands
from app.commands.common import configure_storage, db_option
from app.commands.common import default as _default
from app.commands.common import open_database as _open
from app.commands.init import init as init_command
from app.commands.serve import serve as serve_command
from app.core.times import to_datetime
from app.settings import SETTINGS, setting
from app.web.auth import KeyRequestError, create_key, parse_rate_limit, parse_scopes, revoke_key


@click.group()
@click.version_option(package_name="booking-service", prog_name="booking")
def cli() -> None:
    """The local-first booking service: serve the API and UI, manage keys, sync with a hub."""
    configure_storage()


cli.add_command(serve_command)
cli.add_command(init_command)
backup_commands.register(cli)
desktop_commands.register(cli)


@cli.group()
def keys() -> None:
    """Make, list and revoke API keys."""


@keys.command("create")
@db_option
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option(
    "--scopes",
    required=True,
    help="Comma-separated: booking:read, booking:write, booking:admin, sync.",
)
@click.option(
    "--rate-limit",
    default=None,
    help=f"Such as 600/minute (default {_default('DEFAULT_RATE_LIMIT')}).",
)
@click.option("--tokens", type=int, default=None, help="Token balance; omit for unlimited.")
def keys_create(
    db_path: str, name: str, scopes: str, rate_limit: str | None, tokens: int | None
) -> None:
    """Make a key. The key itself is the last line of output; only its hash is stored."""
    try:
        scope_list = parse_scopes(scopes)
        limit = rate_limit or setting("DEFAULT_RATE_LIMIT")
        parse_rate_limit(limit)
        db = _open(db_path)
        record, key = create_key(db, name=name, scopes=scope_list, rate_limit=limit, tokens=tokens)
    except KeyRequestError as error:
        raise click.ClickException(str(error)) from None
    tokens_text = "unlimited" if tokens is None else str(tokens)
    click.echo(
        f"Created key {record['id']} ({name}): scopes {','.join(scope_list)}, "
        f"rate limit {limit}, tokens {tokens_text}."
    )
    click.echo(key)


@keys.command("list")
@db_option
def keys_list(db_path: str) -> None:
    """List keys with their scopes, limits and tokens left (never the secret)."""
    db = _open(db_path)
    rows = store.list_api_keys(db)
    if not rows:
        click.echo("No keys yet; `booking serve` makes the first admin key.")
        return
    click.echo(f"{'ID':32} {'NAME':16} {'SCOPES':40} {'RATE':12} {'TOKENS':10} STATE")
    for row in rows:
        tokens = "unlimited" if row["tokens_remaining"] is None else row["tokens_remaining"]
        state = "revoked " + _day(row["revoked_at"]) if row["revoked_at"] else "active"
        click.echo(
            f"{row['id']:32} {row['name'][:16]:16} {','.join(row['scopes']):40} "
            f"{row['rate_limit']:12} {tokens!s:10} {state}"
        )


def _day(millis: int) -> str:
    return to_datetime(millis).strftime("%Y-%m-%d %H:%M UTC")


@keys.command("revoke")
@db_option
@click.argument("key_id")
def keys_revoke(db_path: str, key_id: str) -> None:
    """Revoke a key at once; requests with it get 401 from now on."""
    db = _open(db_path)
    if store.get_api_key(db, key_id) is None:
        raise click.ClickException(f"No key has the id {key_id}; see `booking keys list`.")
    if revoke_key(db, key_id):
        click.echo(f"Revoked {key_id}.")
    else:
        click.echo(f"{key_id} was already revoked.")


def main() -> None:
    """Entry point: no traceback reaches the user, even for a bug."""
    from app.ops import settings_file

    try:
        settings_file.apply_to_environment()  # what `booking service install` was told
    except settings_file.SettingsFileError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    try:
        cli(prog_name="booking", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as error:  # a bug, not a user mistake: say so in one line
        if os.environ.get("BOOKING_DEBUG"):
            raise
        click.echo(
            f"Error: unexpected {type(error).__name__}: {error}. "
            "Run again with BOOKING_DEBUG=1 for details.",
            err=True,
        )
        sys.exit(1)


hub_options = [
    click.option(
        "--hub", "hub_url", envvar="BOOKING_HUB_URL", default=None, help=SETTINGS["HUB_URL"][1]
    ),
    click.option("--hub-key", envvar="BOOKING_HUB_KEY", default=None, help=SETTINGS["HUB_KEY"][1]),
]


@cli.command("sync")
@db_option
@hub_options[0]
@hub_options[1]
def sync_command(db_path: str, hub_url: str | None, hub_key: str | None) -> None:
    """Push and pull with the hub now, with a progress bar; exit 0 only when both finished."""
    from tqdm import tqdm

    from sync.client import HubClient, HubRejected, HubUnavailable
    from sync.engine import sync_once

    if not (hub_url and hub_key):
        raise click.ClickException("Pass --hub URL and --hub-key KEY (or BOOKING_HUB_URL/KEY).")
    db = _open(db_path)
    bars: dict[str, tqdm] = {}

    def progress(kind: str, count: int) -> None:
        if kind not in bars:
            bars[kind] = tqdm(
                desc=f"{kind:>4}", unit=" changes", file=sys.stderr, disable=None, leave=True
            )
        bars[kind].update(count)

    try:
        report = sync_once(db, HubClient(hub_url, hub_key), progress=progress)
    except (HubUnavailable, HubRejected) as error:
        store.set_sync_state(db, last_error=str(error))
        raise click.ClickException(str(error)) from None
    finally:
        for bar in bars.values():
            bar.close()
        db.close()
    click.echo(
        f"Synced with {hub_url}: pushed {report.pushed}, pulled {report.pulled}, "
        f"applied {report.applied}."
    )


@cli.command()
@db_option
@click.option(
    "--hub", "hub_url", envvar="BOOKING_HUB_URL", default=None, help=SETTINGS["HUB_URL"][1]
)
def status(db_path: str, hub_url: str | None) -> None:
    """Node id, hub, pending changes, last sync, last error, counts of records."""
    from sync import status as sync_status

    db = _open(db_path)
    info = sync_status.describe(db, hub_url)
    click.echo(f"Node id:        {info['node_id']}")
    click.echo(f"Hub:            {info['hub_url'] or 'none (this node does not sync)'}")
    click.echo(f"Pending:        {info['pending']} changes not yet acknowledged by the hub")
    click.echo(f"Last sync:      {info['last_success'] or 'never'}")
    click.echo(f"Last error:     {info['last_error'] or 'none'}")
    click.echo(f"Anomalies:      {info['anomalies']}")
    if info["identity"]:
        copy = info["identity"]
        click.echo(
            f"Copy:           since {copy['forked_at']} a node of its own; it was "
            f"{copy['reason']} (formerly node {copy['forked_from']})"
        )
    for table in ("customers", "resources", "bookings", "blockers"):
        click.echo(f"{table.capitalize() + ':':<16}{store.count_rows(db, table)}")
    db.close()


cli_outbound.register(cli)
