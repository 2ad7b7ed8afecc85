"""`booking serve`: the API and the pages under waitress, with sync, backups and the log.

The sync worker, the nightly backup job and the rotating log file run beside it, and it holds
the database's serve lock while it runs.
"""

from __future__ import annotations

import errno
import logging
import signal
from typing import Any

import click
from filelock import FileLock

from app import cli_outbound, store
from app.commands.common import count_option, db_option, default, open_database, program, shown
from app.ops import lock, logs, paths
from app.outbound.worker import OutboundWorker
from app.settings import SETTINGS, setting
from app.store.postgres import is_postgres
from app.web.auth import create_key

ADMIN_SCOPES = ["booking:admin"]
# Quick worker threads when BOOKING_THREADS is not set. A SQLite file's writers queue on one
# lock anyway, and more threads only hand the GIL around (README § Performance); on PostgreSQL
# a request may wait for a lock another hub process holds, and with one thread every other
# request of this process, /healthz included, would wait behind it.
QUICK_THREADS_ON_SQLITE = 1
QUICK_THREADS_ON_POSTGRESQL = 4


@click.command()
@db_option
@click.option(
    "--host",
    envvar="BOOKING_HOST",
    default=default("HOST"),
    show_default=True,
    help=SETTINGS["HOST"][1],
)
@click.option(
    "--port",
    envvar="BOOKING_PORT",
    default=default("PORT"),
    type=click.IntRange(0, 65535),
    show_default=True,
    help=SETTINGS["PORT"][1],
)
@click.option(
    "--hub", "hub_url", envvar="BOOKING_HUB_URL", default=None, help=SETTINGS["HUB_URL"][1]
)
@click.option("--hub-key", envvar="BOOKING_HUB_KEY", default=None, help=SETTINGS["HUB_KEY"][1])
@count_option("--sync-interval", "SYNC_INTERVAL", minimum=1)
@count_option("--threads", "THREADS", minimum=1)
@count_option("--heavy-threads", "HEAVY_THREADS", minimum=0)
@count_option("--backup-hour", "BACKUP_HOUR", minimum=0, maximum=23)
@click.option("--demo", is_flag=True, help="Fill an empty database with demo records.")
@click.option(
    "--service",
    is_flag=True,
    help="Run as the installed per-user service: print no secret, since output goes to a log.",
)
def serve(
    db_path: str,
    host: str,
    port: int,
    hub_url: str | None,
    hub_key: str | None,
    sync_interval: int,
    threads: int | None,
    heavy_threads: int,
    backup_hour: int,
    demo: bool,
    service: bool,
) -> None:
    """Serve the API and browser UI with waitress until Ctrl-C."""
    if bool(hub_url) != bool(hub_key):
        raise click.ClickException("Pass --hub and --hub-key together, or neither.")
    sender = cli_outbound.prepare_sender(db_path, hub_url)  # a bad SMTP setting stops us here
    try:
        held = _serve_lock(db_path)
    except lock.ServerRunning as error:
        raise click.ClickException(str(error).rstrip(".") + ".") from None
    try:
        _prepare(db_path, demo=demo, service=service)
        try:
            log_file = logs.configure(paths.log_dir(db_path))
        except logs.LogError as error:
            raise click.ClickException(str(error).rstrip(".") + ".") from None
        if threads is None:
            on_postgres = is_postgres(db_path)
            threads = QUICK_THREADS_ON_POSTGRESQL if on_postgres else QUICK_THREADS_ON_SQLITE
        _run(
            db_path,
            host,
            port,
            hub_url,
            hub_key,
            sync_interval,
            threads,
            heavy_threads,
            backup_hour,
            sender,
        )
    finally:
        if held is not None:
            held.release()
    click.echo(f"Stopped. The log is {log_file}.")


def _serve_lock(db_path: str) -> FileLock | None:
    """One server per SQLite file; none for a PostgreSQL hub, which several `booking serve`
    processes share by design (HUB.md: the database keeps them consistent)."""
    if is_postgres(db_path):
        return None
    return lock.acquire(db_path, "start a second server on it")


def _prepare(db_path: str, *, demo: bool, service: bool) -> None:
    """Migrate (after a backup), make the first admin key, fill demo records if asked."""
    from app import demo as demo_data

    db = open_database(db_path)
    if store.count_api_keys(db) == 0:
        _, key = create_key(
            db, name="admin", scopes=ADMIN_SCOPES, rate_limit=setting("DEFAULT_RATE_LIMIT")
        )
        if service:
            click.echo(
                "Made the first admin key; it is not shown because this output goes to a log. "
                f"Open the UI with `{program()} open`, or make a key with "
                f"`{program()} keys create`."
            )
        else:
            click.echo("Made the first admin key. It is shown only this once; keep it safe:")
            click.echo(f"  {key}")
    else:
        click.echo(
            f"Using existing API keys (make another: {program()} keys create --name NAME "
            "--scopes booking:admin)."
        )
    if demo and demo_data.is_empty(db):
        click.echo(demo_data.fill(db))
        click.echo(
            "To start clean instead, stop this (Ctrl-C) and serve a new database without demo "
            f"data: {program()} serve --db var/shop.db  (or: make run DEMO= DB=var/shop.db)"
        )
    elif demo:
        click.echo(f"{shown(db_path)} already holds records, so no demo data was added.")
    db.close()


def _run(
    db_path: str,
    host: str,
    port: int,
    hub_url: str | None,
    hub_key: str | None,
    sync_interval: int,
    threads: int,
    heavy_threads: int,
    backup_hour: int,
    sender: OutboundWorker | None,
) -> None:
    import waitress

    from app import create_app
    from app.web.pools import Pools, share_the_gil

    app = create_app(
        {"DB": db_path, "HUB_URL": hub_url, "HUB_KEY": hub_key, "SYNC_INTERVAL": sync_interval}
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
    file_jobs = _file_jobs(db_path, backup_hour)
    worker = None
    if hub_url and hub_key:
        from sync.worker import SyncWorker

        worker = SyncWorker(db_path, hub_url, hub_key, sync_interval)
        app.extensions["booking.sync_worker"] = worker
        worker.start()
        click.echo(f"Syncing with {hub_url} every {sync_interval} s.")
    if sender is not None:
        app.extensions["booking.outbound_worker"] = sender
        sender.start()
    click.echo(cli_outbound.describe_sender(sender, hub_url))
    if is_postgres(db_path):
        click.echo(
            f"Serving the hub database {shown(db_path)}; its backups are PostgreSQL's "
            f"(`{program()} backup` runs pg_dump; README § The hub on PostgreSQL)."
        )
    else:
        click.echo(f"Backups go to {paths.backup_dir(db_path)} (nightly after {backup_hour}:00).")
    click.echo(f"Serving on http://{host}:{server.effective_port}  (Ctrl-C to stop)")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # Ctrl-C (SIGINT) stops the server cleanly however it was started: a process started in the
    # background by a script inherits SIGINT ignored, and Python then never raises
    # KeyboardInterrupt, so `kill -INT` would do nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.run()  # returns when waitress handles Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if worker is not None:
            worker.stop()
        if sender is not None:
            sender.stop()
        for job in reversed(file_jobs):
            job.stop()


def _file_jobs(db_path: str, backup_hour: int) -> list[Any]:
    """The jobs a SQLite file needs beside the server, started: the WAL checkpointer and the
    nightly backup. A PostgreSQL server does both for itself (or its operator does)."""
    if is_postgres(db_path):
        return []
    from app.ops.scheduler import BackupScheduler

    checkpointer = store.Checkpointer(db_path)
    checkpointer.start()
    backup_job = BackupScheduler(
        db_path,
        paths.backup_dir(db_path),
        hour=backup_hour,
        daily=setting("BACKUPS_DAILY"),
        weekly=setting("BACKUPS_WEEKLY"),
    )
    backup_job.start()
    return [checkpointer, backup_job]


def _listen_error(error: OSError, host: str, port: int) -> str:
    other = (
        f"--port {port + 1}, or BOOKING_PORT={port + 1} (as in BOOKING_PORT={port + 1} make run)"
    )
    if error.errno == errno.EADDRINUSE:
        return f"Port {port} is in use; stop the other program or pick another port: {other}."
    if error.errno == errno.EACCES:
        return f"Not allowed to listen on port {port}; pick a port above 1023: {other}."
    return f"Cannot listen on {host}:{port}: {error.strerror or error}."
