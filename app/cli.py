"""The `booking` command (CLI.md). User mistakes are one sentence on stderr and exit 1."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import sys
from pathlib import Path

import click

from app import store
from app.core.times import to_datetime
from app.settings import SETTINGS, setting
from app.web.auth import KeyRequestError, create_key, parse_rate_limit, parse_scopes, revoke_key
from sync import identity

ADMIN_SCOPES = ["booking:admin"]


def _default(name: str) -> object:
    return SETTINGS[name][0]


db_option = click.option(
    "--db",
    "db_path",
    envvar="BOOKING_DB",
    default=_default("DB"),
    show_default=True,
    help=SETTINGS["DB"][1],
)


def _count_option(flag: str, name: str, *, minimum: int):
    """An integer option of `serve` that reads BOOKING_<name> and defaults to the setting."""
    return click.option(
        flag,
        envvar=f"BOOKING_{name}",
        type=click.IntRange(min=minimum),
        default=_default(name),
        show_default=True,
        help=SETTINGS[name][1],
    )


def _open(db_path: str):
    try:
        identity.init_database(db_path)
    except store.CannotOpen as error:
        raise click.ClickException(str(error)) from None
    return store.open_db(db_path)


@click.group()
@click.version_option(package_name="booking-service", prog_name="booking")
def cli() -> None:
    """The local-first booking service: serve the API and UI, manage keys, sync with a hub."""


@cli.command()
@db_option
def init(db_path: str) -> None:
    """Create or migrate the database and print its node id. Safe to run again."""
    db = _open(db_path)
    click.echo(f"Database ready at {db_path}")
    click.echo(f"Node id: {store.node_id(db)}")
    db.close()


@cli.command()
@db_option
@click.option(
    "--host",
    envvar="BOOKING_HOST",
    default=_default("HOST"),
    show_default=True,
    help=SETTINGS["HOST"][1],
)
@click.option(
    "--port",
    envvar="BOOKING_PORT",
    default=_default("PORT"),
    type=click.IntRange(0, 65535),
    show_default=True,
    help=SETTINGS["PORT"][1],
)
@click.option(
    "--hub", "hub_url", envvar="BOOKING_HUB_URL", default=None, help=SETTINGS["HUB_URL"][1]
)
@click.option("--hub-key", envvar="BOOKING_HUB_KEY", default=None, help=SETTINGS["HUB_KEY"][1])
@_count_option("--sync-interval", "SYNC_INTERVAL", minimum=1)
@_count_option("--threads", "THREADS", minimum=1)
@_count_option("--heavy-threads", "HEAVY_THREADS", minimum=0)
@click.option("--demo", is_flag=True, help="Fill an empty database with demo records.")
def serve(
    db_path: str,
    host: str,
    port: int,
    hub_url: str | None,
    hub_key: str | None,
    sync_interval: int,
    threads: int,
    heavy_threads: int,
    demo: bool,
) -> None:
    """Serve the API and browser UI with waitress until Ctrl-C."""
    import waitress

    from app import create_app
    from app import demo as demo_data
    from app.web.pools import Pools, share_the_gil

    if bool(hub_url) != bool(hub_key):
        raise click.ClickException("Pass --hub and --hub-key together, or neither.")
    db = _open(db_path)
    if store.count_api_keys(db) == 0:
        _, key = create_key(
            db, name="admin", scopes=ADMIN_SCOPES, rate_limit=setting("DEFAULT_RATE_LIMIT")
        )
        click.echo("Made the first admin key. It is shown only this once; keep it safe:")
        click.echo(f"  {key}")
    else:
        click.echo(
            "Using existing API keys (make another: booking keys create --name NAME "
            "--scopes booking:admin)."
        )
    if demo and demo_data.is_empty(db):
        demo_data.fill(db)
        click.echo("Added demo resources, customers, bookings and blockers.")
    db.close()

    app = create_app(
        {
            "DB": db_path,
            "HUB_URL": hub_url,
            "HUB_KEY": hub_key,
            "SYNC_INTERVAL": sync_interval,
        }
    )
    try:
        # waitress refuses a body over the limit (413) on its declared Content-Length, before
        # reading it, and cuts a chunked body off there; by default it would buffer 1 GiB.
        server = waitress.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            clear_untrusted_proxy_headers=True,
            # Refused before the body is read: a 300 MB upload costs nothing (issue #12).
            max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
            _dispatcher=Pools(app, threads, heavy_threads),
        )
        share_the_gil(threads, heavy_threads)
    except OSError as error:
        raise click.ClickException(_listen_error(error, host, port)) from None
    except ValueError:  # waitress: the host does not resolve to an address
        raise click.ClickException(
            f"Cannot listen on {host}:{port}; pass an address such as 127.0.0.1 to --host."
        ) from None
    checkpointer = store.Checkpointer(db_path)
    checkpointer.start()
    worker = None
    if hub_url and hub_key:
        from sync.worker import SyncWorker

        worker = SyncWorker(db_path, hub_url, hub_key, sync_interval)
        app.extensions["booking.sync_worker"] = worker
        worker.start()
        click.echo(f"Syncing with {hub_url} every {sync_interval} s.")
    click.echo(f"Serving on http://{host}:{server.effective_port}  (Ctrl-C to stop)")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        server.run()  # returns when waitress handles Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if worker is not None:
            worker.stop()
        checkpointer.stop()
    click.echo("Stopped.")


def _listen_error(error: OSError, host: str, port: int) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} is in use; stop the other program or pass --port."
    if error.errno == errno.EACCES:
        return f"Not allowed to listen on port {port}; pick a port above 1023 with --port."
    return f"Cannot listen on {host}:{port}: {error.strerror or error}."


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


@cli.command()
@db_option
@click.argument("path", type=click.Path(dir_okay=False))
def backup(db_path: str, path: str) -> None:
    """Write a consistent copy of the live database to PATH (SQLite online backup)."""
    if not os.path.exists(db_path):
        raise click.ClickException(f"No database at {db_path}; pass --db.")
    if os.path.exists(path):
        raise click.ClickException(f"{path} already exists; choose a new file name.")
    try:
        source = store.open_db(db_path)
    except store.CannotOpen as error:
        reason = error.__cause__ or error
        raise click.ClickException(f"Cannot read the database at {db_path}: {reason}.") from None
    try:
        target = sqlite3.connect(path)
    except sqlite3.Error as error:
        source.close()
        raise click.ClickException(f"Cannot write {path}: {error}.") from None
    try:
        with target:
            source.conn.backup(target)
    except sqlite3.Error as error:
        target.close()
        Path(path).unlink(missing_ok=True)
        raise click.ClickException(f"Cannot back up {db_path}: {error}.") from None
    finally:
        source.close()
    target.close()
    copy = store.open_db(path)
    store.mark_as_backup(copy)  # restored later, it takes a new node id and epoch
    copy.close()
    click.echo(f"Backed up {db_path} to {path}.")


def main() -> None:
    """Entry point: no traceback reaches the user, even for a bug."""
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
