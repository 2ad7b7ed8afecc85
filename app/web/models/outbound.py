"""Messaging, webhooks and calendar feeds (issue #18): their request bodies and queries."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from app.domain import messaging
from app.domain.messages import EVENT_TYPES
from app.store.outbox import STATES
from app.web.models.base import Body, Limit, Query

Channel = Literal["email", "sms"]
Kind = Literal["confirmation", "reminder", "moved", "cancelled"]
EventName = Literal[EVENT_TYPES + ("booking.*", "customer.*", "*")]  # type: ignore[valid-type]


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError("url", "Use an http:// or https:// address.")
    return value


WebUrl = Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_web_url)]
Text = Annotated[str, StringConstraints(max_length=500)]


def _state_filter(value: str | None) -> str | None:
    wanted = [state.strip() for state in (value or "").split(",") if state.strip()]
    unknown = [state for state in wanted if state not in STATES]
    if unknown:
        raise PydanticCustomError("state", f"Use states among {', '.join(STATES)}.")
    return value


class MessageListQuery(Query):
    state: Annotated[str | None, AfterValidator(_state_filter)] = Field(
        None, description="One state or a comma-separated list: " + ", ".join(STATES) + "."
    )
    booking_id: Annotated[str, Field(max_length=64)] | None = None
    channel: Literal["email", "sms", "webhook"] | None = None
    limit: Limit = 25
    cursor: str | None = None


class MessagingSettingsPatch(Body):
    channels: Annotated[list[Channel], Field(max_length=2)] = None  # type: ignore[assignment]
    kinds: Annotated[list[Kind], Field(max_length=4)] = None  # type: ignore[assignment]
    reminder_minutes: Annotated[
        list[Annotated[int, Field(ge=5, le=60 * 24 * 30)]],
        Field(max_length=messaging.MAX_REMINDERS),
    ] = Field(None, description="Minutes before the start; each one a reminder (5..43200).")  # type: ignore[assignment]
    shop_name: Annotated[str, StringConstraints(max_length=200)] | None = None


class TemplatePut(Body):
    subject: Annotated[str, StringConstraints(max_length=messaging.MAX_SUBJECT)] | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=messaging.MAX_BODY)]


class CustomerMessagingPatch(Body):
    email_opt_out: bool = None  # type: ignore[assignment]
    sms_opt_out: bool = None  # type: ignore[assignment]


class WebhookCreate(Body):
    url: WebUrl
    events: Annotated[list[EventName], Field(min_length=1, max_length=20)]
    description: Text | None = None


class WebhookPatch(Body):
    url: WebUrl = None  # type: ignore[assignment]
    events: Annotated[list[EventName], Field(min_length=1, max_length=20)] = None  # type: ignore[assignment]
    description: Text | None = None
    enabled: bool = Field(None, description="true enables a disabled subscription again.")  # type: ignore[assignment]


class FeedCreate(Body):
    resource_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="The resource whose bookings the feed shows; absent: every resource."
    )
    name: Text | None = None
