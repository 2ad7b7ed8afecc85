"""Routes: the outbox, messaging settings and templates, opt-outs, webhooks, calendar feeds."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.domain import feeds, messaging, webhooks
from app.web.api import cursor_secret, db, endpoint, ok, precondition
from app.web.errors import NotFound, refusals_as_api_errors
from app.web.models.outbound import (
    CustomerMessagingPatch,
    FeedCreate,
    MessageListQuery,
    MessagingSettingsPatch,
    TemplatePut,
    WebhookCreate,
    WebhookPatch,
)
from app.web.routes.services import outbound as services
from app.web.schemas import (
    CustomerMessaging,
    Feed,
    Message,
    MessagingSettings,
    Template,
    TemplateList,
    Webhook,
)

bp = Blueprint("outbound", __name__, url_prefix="/modules/booking")
_KINDS, _CHANNELS = messaging.KINDS, messaging.CHANNELS


def _sender() -> str:
    sends = "booking.outbound_worker" in current_app.extensions
    return services.sender_role(current_app.config.get("HUB_URL"), sends)


def _template_key(kind: str, channel: str) -> None:
    if kind not in _KINDS or channel not in _CHANNELS:
        raise NotFound(
            f"Templates exist for kinds {', '.join(_KINDS)} and channels {', '.join(_CHANNELS)}."
        )


@bp.get("/messages")
@endpoint(scope="booking:read", query=MessageListQuery, response=Message, is_list=True)
def list_messages(query: MessageListQuery) -> Response:
    """The outbox: every message decided, oldest first, filtered by state, booking, channel."""
    rows, meta = services.list_messages(db(), query, cursor_secret())
    return ok(rows, meta=meta)


@bp.get("/messages/<message_id>")
@endpoint(scope="booking:read", response=Message, etag=True)
def get_message(message_id: str) -> Response:
    """One message with its state, attempts and last error."""
    return ok(refusals_as_api_errors(services.get_message)(db(), message_id))


@bp.get("/messaging")
@endpoint(scope="booking:read", response=MessagingSettings)
def get_messaging_settings() -> Response:
    """Which channels and kinds of message go out, the reminders' lead times, who sends."""
    return ok(services.settings_json(db(), _sender()))


@bp.patch("/messaging")
@endpoint(scope="booking:admin", body=MessagingSettingsPatch, response=MessagingSettings)
def update_messaging_settings(body: MessagingSettingsPatch) -> Response:
    """Change the messaging settings sent."""
    return ok(services.update_settings(db(), body, _sender()))


@bp.get("/message-templates")
@endpoint(scope="booking:read", response=TemplateList)
def list_message_templates() -> Response:
    """Every template in force (the shop's or the built-in one) and the fields they may name."""
    return ok(services.templates_json(db()))


@bp.put("/message-templates/<kind>/<channel>")
@endpoint(scope="booking:admin", body=TemplatePut, response=Template)
def put_message_template(kind: str, channel: str, body: TemplatePut) -> Response:
    """Rewrite one template (Jinja2 text naming the listed fields)."""
    _template_key(kind, channel)
    save = refusals_as_api_errors(messaging.save_template)
    return ok(save(db(), kind, channel, body.subject, body.body))


@bp.delete("/message-templates/<kind>/<channel>")
@endpoint(scope="booking:admin", response=Template)
def reset_message_template(kind: str, channel: str) -> Response:
    """Back to the built-in text."""
    _template_key(kind, channel)
    return ok(messaging.reset_template(db(), kind, channel))


@bp.get("/customers/<customer_id>/messaging")
@endpoint(scope="booking:read", response=CustomerMessaging)
def get_customer_messaging(customer_id: str) -> Response:
    """Whether the customer opted out of email and of SMS."""
    return ok(services.customer_messaging(db(), customer_id))


@bp.patch("/customers/<customer_id>/messaging")
@endpoint(scope="booking:write", body=CustomerMessagingPatch, response=CustomerMessaging)
def update_customer_messaging(customer_id: str, body: CustomerMessagingPatch) -> Response:
    """Opt the customer out of (or back into) email or SMS messages."""
    return ok(services.update_customer_messaging(db(), customer_id, body))


@bp.post("/webhooks")
@endpoint(scope="booking:admin", body=WebhookCreate, response=Webhook, status=201)
def create_webhook(body: WebhookCreate) -> Response:
    """Subscribe a URL to events; the answer holds the signing secret, shown only here."""
    return ok(services.create_webhook(db(), body), status=201)


@bp.get("/webhooks")
@endpoint(scope="booking:admin", response=Webhook, is_list=True)
def list_webhooks() -> Response:
    """Every subscription, disabled ones with the reason."""
    rows = [services.webhook(row) for row in webhooks.every(db())]
    return ok(rows, meta={"limit": len(rows), "next_cursor": None, "has_more": False})


@bp.get("/webhooks/<subscription_id>")
@endpoint(scope="booking:admin", response=Webhook, etag=True)
def get_webhook(subscription_id: str) -> Response:
    """One subscription."""
    return ok(services.webhook(refusals_as_api_errors(webhooks.get)(db(), subscription_id)))


@bp.patch("/webhooks/<subscription_id>")
@endpoint(scope="booking:admin", body=WebhookPatch, response=Webhook, record=get_webhook)
def update_webhook(subscription_id: str, body: WebhookPatch) -> Response:
    """Change a subscription; `enabled: true` resumes one that was disabled."""
    return ok(services.update_webhook(db(), subscription_id, body, precondition()))


@bp.delete("/webhooks/<subscription_id>")
@endpoint(scope="booking:admin", response=Webhook, record=get_webhook)
def delete_webhook(subscription_id: str) -> Response:
    """Remove a subscription; its waiting deliveries are dropped."""
    return ok(services.delete_webhook(db(), subscription_id, precondition()))


@bp.post("/calendar-feeds")
@endpoint(
    scope="booking:admin", body=FeedCreate, response=Feed, status=201, errors=("unknown_resource",)
)
def create_calendar_feed(body: FeedCreate) -> Response:
    """A secret iCalendar URL for one resource or the whole shop; the URL is shown only here."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return ok(services.create_feed(db(), body.resource_id, body.name, base), status=201)


@bp.get("/calendar-feeds")
@endpoint(scope="booking:admin", response=Feed, is_list=True)
def list_calendar_feeds() -> Response:
    """Every feed (never its URL)."""
    rows = [services.feed(row) for row in feeds.every(db())]
    return ok(rows, meta={"limit": len(rows), "next_cursor": None, "has_more": False})


@bp.delete("/calendar-feeds/<feed_id>")
@endpoint(scope="booking:admin", response=Feed)
def revoke_calendar_feed(feed_id: str) -> Response:
    """Revoke a feed: its URL answers 404 from now on."""
    return ok(services.feed(refusals_as_api_errors(feeds.revoke)(db(), feed_id)))
