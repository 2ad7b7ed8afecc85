"""`booking service install|uninstall|stop|status|show`, `booking open`, `booking doctor`.

What makes the service a desktop application on the shop's laptop.
"""

from __future__ import annotations

import hashlib
import secrets
import webbrowser
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import click
import requests

from app import store
from app.commands.common import count_option, db_option, default, open_database
from app.core.times import wall_ms
from app.ops import health, logs, paths, service, settings_file
from app.settings import SETTINGS, setting
from app.store import signin_links
from app.web.auth import create_key

LINK_LIFETIME_MS = 60_000  # a sign-in link works once, within a minute
OPEN_SCOPES = ("booking:read", "booking:write", "booking:admin")

host_option = click.option(
    "--host",
    envvar="BOOKING_HOST",
    default=default("HOST"),
    show_default=True,
    help=SETTINGS["HOST"][1],
)
port_option = click.option(
    "--port",
    envvar="BOOKING_PORT",
    default=default("PORT"),
    type=click.IntRange(1, 65535),
    show_default=True,
    help=SETTINGS["PORT"][1],
)
hub_option = click.option(
    "--hub", "hub_url", envvar="BOOKING_HUB_URL", default=None, help=SETTINGS["HUB_URL"][1]
)
system_option = click.option(
    "--system",
    type=click.Choice(service.SYSTEMS),
    default=None,
    help="Linux, macOS or Windows; by default this computer's.",
)


def _fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error).rstrip(".") + ".")


def _service_file(db_path: str, system: str | None = None) -> service.ServiceFile:
    try:
        chosen = system or service.this_system()
    except service.ServiceError as error:
        raise _fail(error) from None
    return service.render(chosen, home=Path.home(), log_dir=paths.log_dir(db_path))


@click.group("service")
def service_group() -> None:
    """Run `booking serve` as this user's service: from login on, and again after a crash."""


@service_group.command("install")
@db_option
@host_option
@port_option
@hub_option
@click.option("--hub-key", envvar="BOOKING_HUB_KEY", default=None, help=SETTINGS["HUB_KEY"][1])
@count_option("--sync-interval", "SYNC_INTERVAL", minimum=1)
def service_install(
    db_path: str,
    host: str,
    port: int,
    hub_url: str | None,
    hub_key: str | None,
    sync_interval: int,
) -> None:
    """Register and start the service. The options are kept in the settings file, which every
    `booking` command reads, so `booking open` and `booking doctor` find this database."""
    if bool(hub_url) != bool(hub_key):
        raise click.ClickException("Pass --hub and --hub-key together, or neither.")
    open_database(db_path).close()  # a bad path or a newer database stops here
    target = _service_file(db_path)
    config = paths.settings_file()
    previous = config.read_text(encoding="utf-8") if config.exists() else None
    values = {
        "DB": str(Path(db_path).resolve()),
        "HOST": host,
        "PORT": port,
        "HUB_URL": hub_url,
        "HUB_KEY": hub_key,
        "SYNC_INTERVAL": sync_interval,
    }
    try:
        settings_file.write(values, config)
        service.install(target)
    except (service.ServiceError, settings_file.SettingsFileError) as error:
        settings_file.restore(config, previous)
        raise _fail(error) from None
    click.echo(f"Installed {target.path}; settings in {config}.")
    click.echo(f"The service serves {db_path} on http://{host}:{port} from every login.")
    click.echo("Open it signed in with: booking open")


@service_group.command("uninstall")
@db_option
def service_uninstall(db_path: str) -> None:
    """Stop the service and remove it; the database, backups, logs and settings stay."""
    target = _service_file(db_path)
    try:
        service.uninstall(target)
    except service.ServiceError as error:
        raise _fail(error) from None
    click.echo(f"Removed {target.path}; the database {db_path} and its backups are kept.")


@service_group.command("stop")
@db_option
def service_stop(db_path: str) -> None:
    """Stop the service until the next login (for a restore); `booking service install` or a
    new login starts it again."""
    try:
        service.stop(_service_file(db_path))
    except service.ServiceError as error:
        raise _fail(error) from None
    click.echo("Stopped the service.")


@service_group.command("status")
@db_option
@host_option
@port_option
def service_status(db_path: str, host: str, port: int) -> None:
    """Whether the service is installed and running, and whether it answers."""
    target = _service_file(db_path)
    installed = target.path.exists()
    click.echo(f"Service file: {target.path} ({'installed' if installed else 'not installed'})")
    try:
        running, said = service.status(target)
    except service.ServiceError as error:
        running, said = False, str(error)
    click.echo(f"System:       {said}")
    answering = _health(host, port) is not None
    click.echo(f"Answers:      http://{host}:{port} {'yes' if answering else 'no'}")
    if not (installed and running and answering):
        raise SystemExit(3)  # as `systemctl status` says "not running"


@service_group.command("show")
@db_option
@system_option
def service_show(db_path: str, system: str | None) -> None:
    """Print the service file `install` writes (for any of the three systems) and its place."""
    target = _service_file(db_path, system)
    click.echo(f"# {target.path}")
    click.echo(target.text, nl=False)


def _health(host: str, port: int) -> dict | None:
    try:
        response = requests.get(f"http://{host}:{port}/healthz", timeout=3)
        return response.json()["data"] if response.status_code == 200 else None
    except (requests.RequestException, ValueError, KeyError):
        return None


@click.command("open")
@db_option
@host_option
@port_option
@click.option(
    "--scope",
    type=click.Choice(OPEN_SCOPES),
    default="booking:write",
    show_default=True,
    help="What the browser may do: read looks, write books, admin also deletes and syncs.",
)
@click.option("--no-browser", is_flag=True, help="Print the sign-in link instead of opening it.")
def open_command(db_path: str, host: str, port: int, scope: str, no_browser: bool) -> None:
    """Open the UI in the default browser, signed in (for the shop's own, trusted laptop).

    It makes a link that signs in once, within a minute, with this laptop's own key for the
    scope (made on first use). Only someone who can read the database file can make one.
    """
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: this laptop reaches it locally
        host = "127.0.0.1"
    url = f"http://{host}:{port}"
    answer = _health(host, port)
    if answer is None:
        raise click.ClickException(
            f"Nothing answers at {url}; start the service (booking service install) or run "
            "booking serve, then try again."
        )
    db = open_database(db_path)
    try:
        if answer.get("node_id") != store.node_id(db):
            raise click.ClickException(
                f"The server at {url} serves another database than {db_path}; pass the --db "
                "or --port of the one to open."
            )
        link = f"{url}/signin/link?token={_make_link(db, scope)}"
    finally:
        db.close()
    if no_browser or not webbrowser.open(link):
        click.echo(f"Open this link within a minute (it works once): {link}")
    else:
        click.echo(f"Opened {url} in the browser, signed in with {scope}.")


def _make_link(db, scope: str) -> str:
    name = f"this laptop ({scope})"
    found = [
        row
        for row in store.list_api_keys(db)
        if row["name"] == name and row["scopes"] == [scope] and row["revoked_at"] is None
    ]
    if found:
        key_id = found[0]["id"]
    else:
        record, _secret = create_key(
            db, name=name, scopes=[scope], rate_limit=setting("DEFAULT_RATE_LIMIT")
        )
        key_id = record["id"]
    token = secrets.token_urlsafe(32)
    with store.transaction(db):
        signin_links.insert_signin_link(
            db, hashlib.sha256(token.encode()).hexdigest(), key_id, wall_ms() + LINK_LIFETIME_MS
        )
    return token


@click.command("doctor")
@db_option
@hub_option
@click.option(
    "--bundle",
    "bundle",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PATH]",
    help="Also write a zip of the logs and this report for support (default name in .).",
)
def doctor(db_path: str, hub_url: str | None, bundle: str | None) -> None:
    """Check the database, disk, sync, clock, backups and version; exit 1 if a person is needed."""
    db = open_database(db_path)
    where = health.Where(db_path, paths.backup_dir(db_path), hub_url, setting("DISK_WARN_MB"))
    try:
        checks = health.run(db, where, live_integrity=True)
        node = store.node_id(db)
    finally:
        db.close()
    text = health.as_text(checks)
    click.echo(text, nl=False)
    if bundle is not None:
        target = Path(bundle or f"booking-support-{datetime.now():%Y%m%d-%H%M%S}.zip")
        extra = {"version": version("booking-service"), "node_id": node, "database": db_path}
        try:
            logs.write_bundle(target, paths.log_dir(db_path), text, health.as_json(checks, extra))
        except logs.LogError as error:
            raise _fail(error) from None
        click.echo(f"Wrote {target} (the logs and this report; no bookings or customers).")
    problems = health.needing_person(checks)
    if problems:
        raise click.ClickException(
            f"{len(problems)} of the checks above need a person (marked !!)."
        )


def register(cli: click.Group) -> None:
    cli.add_command(service_group)
    cli.add_command(open_command)
    cli.add_command(doctor)
