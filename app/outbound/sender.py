"""One sending round: lease the due messages, judge, deliver, record each outcome.

Each outcome is recorded as a synced change.

Exactly once across the chain: only one node sends (the hub, or a laptop with no hub; see
README § Messages and webhooks), and a message is held by a lease, taken in a write
transaction, while one round delivers it, so several processes on one database never send it
twice. No transaction is open while the network is used. A process killed between the other
side's acceptance and the outcome's commit sends that one message again when its lease runs
out, with the same Message-ID or webhook id, so the receiving side can tell.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app import store
from app.core.times import wall_ms
from app.domain import delivery
from app.outbound import channels
from app.outbound.config import OutboundConfig
from app.store import Connection, outbox
from app.store import webhooks as stored_webhooks

log = logging.getLogger(__name__)
LEASE_MS = 5 * 60_000  # longer than any delivery's timeouts together
MAX_RETRY_S = 3600


@dataclass
class RoundReport:
    sent: list[str] = field(default_factory=list)
    closed: dict[str, str] = field(default_factory=dict)  # message id -> state
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def retry_delay_s(attempts: int, base_s: int, rng: random.Random | None = None) -> float:
    """Exponential in the attempts so far, with jitter, capped at an hour."""
    delay = min(MAX_RETRY_S, base_s * 2 ** max(attempts - 1, 0))
    return delay * (0.5 + (rng or random).random() / 2)


Deliver = Callable[[OutboundConfig, dict[str, Any], delivery.Judgement], None]


def send_due(
    db: Connection, config: OutboundConfig, now: int | None = None, deliver: Deliver | None = None
) -> RoundReport:
    """Deliver every message due by `now` (one batch after another); returns what happened.

    `deliver` hands one message to the world (default: SMTP, SMS or webhook, by its channel);
    it raises channels.DeliveryFailed when the other side did not take it.
    """
    now = wall_ms() if now is None else now
    report = RoundReport()
    while batch := _claim(db, now, config.batch):
        for message in batch:
            _handle(db, config, message, now, report, deliver or _deliver)
    return report


def _claim(db: Connection, now: int, limit: int) -> list[dict[str, Any]]:
    with store.transaction(db):
        batch = outbox.due(db, now, limit)
        outbox.lease(db, [message["id"] for message in batch], now + LEASE_MS)
    return batch


def _handle(
    db: Connection,
    config: OutboundConfig,
    message: dict[str, Any],
    now: int,
    report: RoundReport,
    deliver: Deliver,
) -> None:
    judgement = delivery.judge(db, message, now)
    if judgement.state is None and _channel_missing(config, message["channel"]):
        judgement = delivery.Judgement(
            state="skipped", reason=f"This node has no {message['channel']} settings."
        )
    if judgement.state is not None:
        _close(db, message, judgement.state, judgement.reason)
        report.closed[message["id"]] = judgement.state
        return
    try:
        deliver(config, message, judgement)
    except channels.DeliveryFailed as failure:
        _failed(db, config, message, failure, now, report)
        return
    with store.transaction(db):
        outbox.record(
            db,
            {
                **message,
                "state": "sent",
                "state_reason": None,
                "last_error": None,
                "attempts": message["attempts"] + 1,
                "recipient": judgement.recipient,
                "sent_at": now,
                "sent_by": store.node_id(db),
            },
        )
        outbox.schedule_retry(db, message["id"], None)
        if message["channel"] == "webhook":
            stored_webhooks.set_failures_in_a_row(db, message["subscription_id"], 0)
    report.sent.append(message["id"])


def _channel_missing(config: OutboundConfig, channel: str) -> bool:
    return (channel == "email" and config.smtp is None) or (channel == "sms" and config.sms is None)


def _deliver(
    config: OutboundConfig, message: dict[str, Any], judgement: delivery.Judgement
) -> None:
    channel, recipient = message["channel"], judgement.recipient or ""
    if channel == "email":
        assert config.smtp is not None
        channels.send_email(
            config.smtp, recipient, judgement.subject or "", judgement.body, message["id"]
        )
    elif channel == "sms":
        assert config.sms is not None
        channels.send_sms(config.sms, recipient, judgement.body, message["id"])
    else:
        hook = judgement.webhook
        channels.post_webhook(config, hook["url"], hook["secret"], hook["envelope"])


def _close(db: Connection, message: dict[str, Any], state: str, reason: str | None) -> None:
    with store.transaction(db):
        outbox.record(db, {**message, "state": state, "state_reason": reason})
        outbox.schedule_retry(db, message["id"], None)


def _failed(
    db: Connection,
    config: OutboundConfig,
    message: dict[str, Any],
    failure: channels.DeliveryFailed,
    now: int,
    report: RoundReport,
) -> None:
    """Count the attempt; retry later with backoff, or give up after the last attempt (at once
    when retrying cannot help). A webhook's failures in a row may disable its subscription."""
    attempts = message["attempts"] + 1
    give_up = failure.permanent or attempts >= config.max_attempts
    error = str(failure)
    log.warning(
        "Message %s (%s) failed, attempt %d: %s", message["id"], message["channel"], attempts, error
    )
    with store.transaction(db):
        outbox.record(
            db,
            {
                **message,
                "attempts": attempts,
                "last_error": error,
                "state": "failed" if give_up else "pending",
                "state_reason": f"Gave up after {attempts} attempts." if give_up else None,
            },
        )
        wait_ms = max(1000, int(retry_delay_s(attempts, config.retry_base_s) * 1000))
        retry_at = None if give_up else now + wait_ms
        outbox.schedule_retry(db, message["id"], retry_at)
        if message["channel"] == "webhook":
            _count_webhook_failure(db, config, message["subscription_id"], error)
    (report.failed if give_up else report.retrying).append(message["id"])


def _count_webhook_failure(
    db: Connection, config: OutboundConfig, subscription_id: str, error: str
) -> None:
    failures = stored_webhooks.failures_in_a_row(db, subscription_id) + 1
    stored_webhooks.set_failures_in_a_row(db, subscription_id, failures)
    subscription = stored_webhooks.get(db, subscription_id)
    if (
        failures < config.webhook_max_failures
        or subscription is None
        or not subscription["enabled"]
    ):
        return
    reason = f"Disabled after {failures} failed deliveries in a row; the last: {error}"
    # Enabled again, it gets a whole new run of tries before it is disabled again.
    stored_webhooks.set_failures_in_a_row(db, subscription_id, 0)
    stored_webhooks.update(
        db, subscription_id, {"enabled": False, "disabled_reason": reason, "disabled_at": wall_ms()}
    )
    log.warning("Webhook subscription %s disabled: %s", subscription_id, reason)
