"""Messages, messaging settings, templates, webhooks and feeds for the web: models in, JSON out."""

from __future__ import annotations

from typing import Any

from app.core.times import format_instant, format_optional
from app.domain import Precondition, customers, feeds, messaging, pagination, webhooks
from app.domain.errors import NotFound
from app.store import Connection, outbox
from app.web.errors import refusals_as_api_errors
from app.web.models.outbound import (
    CustomerMessagingPatch,
    MessageListQuery,
    MessagingSettingsPatch,
    WebhookCreate,
    WebhookPatch,
)
from app.web.routes.services import sent_fields

Json = dict[str, Any]


def message(row: dict[str, Any]) -> Json:
    basis = row["basis"] or None
    if basis:
        basis = {
            "start_time": format_instant(basis["start_time"]),
            "end_time": format_instant(basis["end_time"]),
            "resource_id": basis["resource_id"],
        }
    return {
        "id": row["id"],
        "kind": row["kind"],
        "channel": row["channel"],
        "booking_id": row["booking_id"],
        "customer_id": row["customer_id"],
        "subscription_id": row["subscription_id"],
        "basis": basis,
        "state": row["state"],
        "state_reason": row["state_reason"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "recipient": row["recipient"],
        "due_at": format_instant(row["due_at"]),
        "next_attempt_at": format_optional(row["next_attempt_at"]),
        "created_at": format_instant(row["created_at"]),
        "decided_by": row["decided_by"],
        "sent_at": format_optional(row["sent_at"]),
        "sent_by": row["sent_by"],
    }


def list_messages(db: Connection, query: MessageListQuery, secret: str) -> tuple[list[Json], Json]:
    after = pagination.decode(secret, "messages", query.cursor)
    states = [s.strip() for s in (query.state or "").split(",") if s.strip()]
    rows = outbox.list_messages(
        db,
        after_id=after,
        limit=query.limit + 1,
        states=states or None,
        booking_id=query.booking_id,
        channel=query.channel,
    )
    rows, meta = pagination.page(rows, query.limit, secret, "messages", lambda row: row["id"])
    return [message(row) for row in rows], meta


def get_message(db: Connection, message_id: str) -> Json:
    row = outbox.get(db, message_id)
    if row is None:
        raise NotFound(f"No message has the id {message_id!r}.")
    return message(row)


def settings_json(db: Connection, sender: str) -> Json:
    current = messaging.settings(db)
    return {name: current[name] for name in messaging.DEFAULT_SETTINGS} | {"sender": sender}


@refusals_as_api_errors
def update_settings(db: Connection, payload: MessagingSettingsPatch, sender: str) -> Json:
    messaging.update_settings(db, sent_fields(payload))
    return settings_json(db, sender)


def templates_json(db: Connection) -> Json:
    return {"templates": messaging.templates(db), "fields": messaging.FIELDS}


@refusals_as_api_errors
def customer_messaging(db: Connection, customer_id: str) -> Json:
    row = customers.get(db, customer_id)
    return {
        "customer_id": row["id"],
        "email_opt_out": bool(row["email_opt_out"]),
        "sms_opt_out": bool(row["sms_opt_out"]),
    }


@refusals_as_api_errors
def update_customer_messaging(
    db: Connection, customer_id: str, payload: CustomerMessagingPatch
) -> Json:
    customers.update(db, customer_id, sent_fields(payload))
    return customer_messaging(db, customer_id)


def webhook(row: dict[str, Any], *, with_secret: bool = False) -> Json:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": row["events"],
        "description": row["description"],
        "enabled": row["enabled"],
        "disabled_reason": row["disabled_reason"],
        "disabled_at": format_optional(row["disabled_at"]),
        "created_at": format_instant(row["created_at"]),
        "updated_at": format_instant(row["updated_at"]),
        "secret": row["secret"] if with_secret else None,
    }


@refusals_as_api_errors
def create_webhook(db: Connection, payload: WebhookCreate) -> Json:
    row = webhooks.create(db, payload.url, list(payload.events), payload.description)
    return webhook(row, with_secret=True)


@refusals_as_api_errors
def update_webhook(
    db: Connection, subscription_id: str, payload: WebhookPatch, precondition: Precondition = None
) -> Json:
    sent = sent_fields(payload)
    return webhook(webhooks.update(db, subscription_id, sent, precondition=precondition))


@refusals_as_api_errors
def delete_webhook(db: Connection, subscription_id: str, precondition: Precondition = None) -> Json:
    return webhook(webhooks.delete(db, subscription_id, precondition=precondition))


def feed(row: dict[str, Any], url: str | None = None) -> Json:
    return {
        "id": row["id"],
        "resource_id": row["resource_id"],
        "name": row["name"],
        "revoked_at": format_optional(row["revoked_at"]),
        "created_at": format_instant(row["created_at"]),
        "url": url,
    }


@refusals_as_api_errors
def create_feed(db: Connection, resource_id: str | None, name: str | None, base_url: str) -> Json:
    row, token = feeds.create(db, resource_id, name)
    return feed(row, feed_url(base_url, token))


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/calendar/{token}.ics"


def sender_role(hub_url: str | None, sends: bool) -> str:
    """Which node sends this shop's messages, in words for the settings and the UI."""
    if hub_url:
        return "The hub sends them; messages decided here go to it with the next sync."
    if sends:
        return "This node sends them."
    return "This node does not send them (no hub, and no sender running here)."


def count_states(db: Connection) -> dict[str, int]:
    return outbox.counts_by_state(db)
