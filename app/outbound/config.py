"""What the sending node needs to reach the world, from the settings (app/settings.py).

SMTP and SMS credentials are the sending node's own: they are settings, never synced records,
so no laptop holds a password it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # "starttls", "tls" or "none"
    username: str | None
    password: str | None
    sender: str  # the From address
    ca_file: str | None = None  # a private CA for the mail relay; None trusts the system's
    timeout_s: float = 20.0


@dataclass(frozen=True)
class SmsConfig:
    provider: str  # "twilio" or "json"
    url: str | None
    account: str | None
    token: str | None
    sender: str | None
    timeout_s: float = 20.0


@dataclass(frozen=True)
class OutboundConfig:
    smtp: SmtpConfig | None = None
    sms: SmsConfig | None = None
    max_attempts: int = 8
    retry_base_s: int = 30
    webhook_max_failures: int = 10
    webhook_timeout_s: float = 10.0
    batch: int = 50


SECURITY_MODES = ("starttls", "tls", "none")
SMS_PROVIDERS = ("twilio", "json")


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and what to set."""


def from_settings(setting: Callable[[str], Any]) -> OutboundConfig:
    """The outbound configuration from BOOKING_* settings; ConfigError names a bad one."""
    return OutboundConfig(
        smtp=_smtp(setting),
        sms=_sms(setting),
        max_attempts=int(setting("OUTBOUND_MAX_ATTEMPTS")),
        retry_base_s=int(setting("OUTBOUND_RETRY_BASE")),
        webhook_max_failures=int(setting("WEBHOOK_MAX_FAILURES")),
    )


def _smtp(setting: Callable[[str], Any]) -> SmtpConfig | None:
    host = setting("SMTP_HOST")
    if not host:
        return None
    security = setting("SMTP_SECURITY")
    if security not in SECURITY_MODES:
        raise ConfigError(f"BOOKING_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}.")
    sender = setting("SMTP_FROM")
    if not sender:
        raise ConfigError("Set BOOKING_SMTP_FROM, the address messages come from.")
    default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
    return SmtpConfig(
        host=host,
        port=int(setting("SMTP_PORT") or default_port),
        security=security,
        username=setting("SMTP_USERNAME"),
        password=setting("SMTP_PASSWORD"),
        sender=sender,
        ca_file=setting("SMTP_CA_FILE"),
    )


def _sms(setting: Callable[[str], Any]) -> SmsConfig | None:
    provider = setting("SMS_PROVIDER")
    if not provider:
        return None
    if provider not in SMS_PROVIDERS:
        raise ConfigError(f"BOOKING_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}.")
    if provider == "json" and not setting("SMS_URL"):
        raise ConfigError("The json SMS provider needs BOOKING_SMS_URL.")
    if provider == "twilio" and not (setting("SMS_ACCOUNT") and setting("SMS_TOKEN")):
        raise ConfigError("Twilio needs BOOKING_SMS_ACCOUNT and BOOKING_SMS_TOKEN.")
    return SmsConfig(
        provider=provider,
        url=setting("SMS_URL"),
        account=setting("SMS_ACCOUNT"),
        token=setting("SMS_TOKEN"),
        sender=setting("SMS_FROM"),
    )
