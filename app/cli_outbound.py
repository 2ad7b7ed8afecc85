"""`booking serve`'s outbox sender, and `booking import` / `booking export` (issue #18).

Kept apart from app/cli.py, which registers these commands with one call.
"""

from __future__ import annotations

import click

from app.outbound.config import ConfigError, from_settings
from app.outbound.worker import OutboundWorker
from app.settings import setting


def prepare_sender(db_path: str, hub_url: str | None) -> OutboundWorker | None:
    """The outbox sender this node runs, or None: a node with a hub leaves sending to the hub
    (README § Messages and webhooks), and BOOKING_SEND_MESSAGES=never stops it. A bad
    SMTP or SMS setting stops `serve` before it starts, with the setting named."""
    mode = setting("SEND_MESSAGES")
    if mode not in ("auto", "never"):
        raise click.ClickException("BOOKING_SEND_MESSAGES must be auto or never.")
    if hub_url or mode == "never":
        return None
    try:
        config = from_settings(setting)
    except (ConfigError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    return OutboundWorker(db_path, config, int(setting("OUTBOUND_INTERVAL")))


def describe_sender(worker: OutboundWorker | None, hub_url: str | None) -> str:
    if worker is None:
        if hub_url:
            return "Messages and webhooks decided here are sent by the hub."
        return "Sending no messages (BOOKING_SEND_MESSAGES=never)."
    config = worker.config
    ways = [name for name, on in (("email", config.smtp), ("SMS", config.sms)) if on]
    ways.append("webhooks")
    return f"Sending messages ({', '.join(ways)}) every {worker.interval} s."


def register(cli: click.Group) -> None:
    """Add `import` and `export` to the `booking` command."""
    from app import cli_transfer

    cli.add_command(cli_transfer.import_group)
    cli.add_command(cli_transfer.export_group)
