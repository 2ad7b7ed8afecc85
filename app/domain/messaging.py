"""The shop's messaging settings and templates, and the wording of a message.

Templates are Jinja2 text rendered in a sandbox (a template is shop data: it must not reach
Python's internals), with every field a customer message can name listed in FIELDS. A template
naming anything else is refused when it is saved, not when a reminder is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from app import store
from app.core.times import wall_ms
from app.domain.errors import InvalidInput
from app.store import Connection
from app.store import messaging as stored

CHANNELS = ("email", "sms")
KINDS = ("confirmation", "reminder", "moved", "cancelled")
DEFAULT_SETTINGS: dict[str, Any] = {
    "channels": ["email"],
    "kinds": list(KINDS),
    "reminder_minutes": [],
    "shop_name": None,
}
MAX_REMINDERS = 5
MAX_SUBJECT = 200
MAX_BODY = 5000

_EMAIL_SIGNATURE = "\n\n{{ shop_name }}"
DEFAULT_TEMPLATES: dict[str, tuple[str | None, str]] = {
    "confirmation.email": (
        "Your booking on {{ date }} at {{ time }}",
        "Hello {{ customer_name }},\n\nYour booking{% if title %} ({{ title }}){% endif %} "
        "with {{ resource_name }} on {{ date }} at {{ time }} is in our book." + _EMAIL_SIGNATURE,
    ),
    "reminder.email": (
        "Reminder: {{ date }} at {{ time }}",
        "Hello {{ customer_name }},\n\nA reminder of your booking with {{ resource_name }} on "
        "{{ date }} at {{ time }}." + _EMAIL_SIGNATURE,
    ),
    "moved.email": (
        "Your booking moved to {{ date }} at {{ time }}",
        "Hello {{ customer_name }},\n\nYour booking with {{ resource_name }} is now on "
        "{{ date }} at {{ time }}." + _EMAIL_SIGNATURE,
    ),
    "cancelled.email": (
        "Your booking on {{ date }} is cancelled",
        "Hello {{ customer_name }},\n\nYour booking with {{ resource_name }} on {{ date }} at "
        "{{ time }} is cancelled." + _EMAIL_SIGNATURE,
    ),
    "confirmation.sms": (
        None,
        "{{ shop_name }}: booked {{ date }} {{ time }}, {{ resource_name }}.",
    ),
    "reminder.sms": (
        None,
        "{{ shop_name }}: reminder, {{ date }} {{ time }}, {{ resource_name }}.",
    ),
    "moved.sms": (None, "{{ shop_name }}: your booking moved to {{ date }} {{ time }}."),
    "cancelled.sms": (None, "{{ shop_name }}: your booking on {{ date }} {{ time }} is cancelled."),
}
FIELDS = {
    "customer_name": "The customer's name.",
    "shop_name": "The shop's name (messaging settings).",
    "resource_name": "What is booked: a chair, a room, a person.",
    "title": "The booking's title (may be empty).",
    "date": "The start day in the resource's time zone, such as Monday 7 January 2030.",
    "time": "The start time in the resource's time zone, such as 10:00.",
    "end_time": "The end time in the resource's time zone.",
    "timezone": "The resource's time zone, such as Europe/Paris.",
    "booking_id": "The booking's id.",
}
_SAMPLE = {name: "x" for name in FIELDS}

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class Wording:
    subject: str | None
    body: str


# --- settings ------------------------------------------------------------------------------------


def settings(db: Connection) -> dict[str, Any]:
    """The settings in force: what the shop set, the defaults for the rest."""
    row = stored.settings_row(db) or {}
    return {name: row.get(name, default) for name, default in DEFAULT_SETTINGS.items()} | {
        "updated_at": row.get("updated_at")
    }


def update_settings(db: Connection, sent: dict[str, Any]) -> dict[str, Any]:
    """Change the settings sent (channels, kinds, reminder_minutes, shop_name)."""
    if "reminder_minutes" in sent:
        sent = {**sent, "reminder_minutes": sorted(set(sent["reminder_minutes"]), reverse=True)}
    for name in ("channels", "kinds"):
        if name in sent:
            sent = {**sent, name: sorted(set(sent[name]))}
    with store.transaction(db):
        current = settings(db)
        changes = {name: value for name, value in sent.items() if current[name] != value}
        if changes:
            now = wall_ms()
            new = stored.settings_row(db) is None
            extra = {"created_at": now} if new else {}
            stored.write_settings(db, {**changes, **extra, "updated_at": now}, new=new)
        return settings(db)


# --- templates -----------------------------------------------------------------------------------


def templates(db: Connection) -> list[dict[str, Any]]:
    """Every (kind, channel) with the text in force and whether the shop rewrote it."""
    stored_rows = stored.templates(db)
    found = []
    for kind in KINDS:
        for channel in CHANNELS:
            found.append(template(db, kind, channel, stored_rows))
    return found


def template(
    db: Connection, kind: str, channel: str, stored_rows: dict[str, Any] | None = None
) -> dict[str, Any]:
    key = stored.template_id(kind, channel)
    row = (stored_rows if stored_rows is not None else stored.templates(db)).get(key)
    subject, body = DEFAULT_TEMPLATES[key]
    custom = bool(row and row["body"])
    if custom:
        subject, body = row["subject"], row["body"]  # type: ignore[index]
    return {"kind": kind, "channel": channel, "subject": subject, "body": body, "custom": custom}


def save_template(
    db: Connection, kind: str, channel: str, subject: str | None, body: str
) -> dict[str, Any]:
    """Rewrite one template; refused (InvalidInput, naming the field) if it cannot render."""
    if channel == "email" and not subject:
        raise InvalidInput(details=[{"field": "subject", "message": "An email needs a subject."}])
    _check_renders("subject", subject or "")
    _check_renders("body", body)
    now = wall_ms()
    with store.transaction(db):
        stored.write_template(
            db,
            kind,
            channel,
            {"subject": subject, "body": body, "created_at": now, "updated_at": now},
        )
    return template(db, kind, channel)


def reset_template(db: Connection, kind: str, channel: str) -> dict[str, Any]:
    """Back to the built-in text (a blank body: a tombstone would forbid rewriting it again)."""
    with store.transaction(db):
        if stored.templates(db).get(stored.template_id(kind, channel)):
            stored.write_template(
                db, kind, channel, {"subject": None, "body": "", "updated_at": wall_ms()}
            )
    return template(db, kind, channel)


def _check_renders(field: str, text: str) -> None:
    try:
        _environment.from_string(text).render(_SAMPLE)
    except TemplateError as error:
        known = ", ".join(FIELDS)
        raise InvalidInput(
            details=[{"field": field, "message": f"{error.message}. Fields: {known}."}]
        ) from None


def context(
    booking: dict[str, Any], customer: dict[str, Any], resource: dict[str, Any] | None, shop: str
) -> dict[str, Any]:
    """What a template may name, with times in the resource's zone."""
    zone = ZoneInfo((resource or {}).get("timezone") or "UTC")
    start = datetime.fromtimestamp(booking["start_time"] / 1000, zone)
    end = datetime.fromtimestamp(booking["end_time"] / 1000, zone)
    return {
        "customer_name": customer["name"],
        "shop_name": shop,
        "resource_name": (resource or {}).get("name") or "",
        "title": booking.get("title") or "",
        "date": f"{start:%A} {start.day} {start:%B %Y}",
        "time": f"{start:%H:%M}",
        "end_time": f"{end:%H:%M}",
        "timezone": zone.key,
        "booking_id": booking["id"],
    }


def word(db: Connection, kind: str, channel: str, values: dict[str, Any]) -> Wording:
    """The message's subject and body in the shop's templates; a template that stopped
    rendering (written by an older version) falls back to the built-in text."""
    chosen = template(db, kind, channel)
    try:
        return _render(chosen["subject"], chosen["body"], values)
    except TemplateError:
        subject, body = DEFAULT_TEMPLATES[stored.template_id(kind, channel)]
        return _render(subject, body, values)


def _render(subject: str | None, body: str, values: dict[str, Any]) -> Wording:
    rendered_subject = _environment.from_string(subject).render(values) if subject else None
    return Wording(rendered_subject, _environment.from_string(body).render(values).strip())
