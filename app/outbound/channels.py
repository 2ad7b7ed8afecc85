"""The three ways out: SMTP, an SMS provider's HTTP API, and a signed webhook POST.

Each raises DeliveryFailed, saying whether trying again can help (`permanent`), and never
anything else for a failure of the other side. Every network call has a timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import requests

from app.core import json_codec
from app.outbound.config import OutboundConfig, SmsConfig, SmtpConfig

TWILIO_API = "https://api.twilio.com"
SIGNATURE_HEADER = "Booking-Signature"


class DeliveryFailed(Exception):
    """The other side did not take the message; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


# --- email ------------------------------------------------------------------------------------


def send_email(smtp: SmtpConfig, to: str, subject: str, body: str, message_id: str) -> None:
    """Hand one email to the SMTP server. The Message-ID is made from the outbox id, so a copy
    sent again after a crash is recognisably the same message."""
    email = EmailMessage()
    email["From"] = smtp.sender
    email["To"] = to
    email["Subject"] = subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    domain = smtp.sender.rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=message_id, domain=domain)
    email["X-Booking-Message"] = message_id
    email.set_content(body)
    try:
        with _connect(smtp) as server:
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            server.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryFailed(
            f"The mail server refused {to}: {_first_refusal(error)}.", permanent=True
        ) from None
    except smtplib.SMTPResponseException as error:
        text = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else str(error.smtp_error)
        )
        raise DeliveryFailed(
            f"The mail server answered {error.smtp_code} {text}.",
            permanent=500 <= error.smtp_code < 600
            and not isinstance(error, smtplib.SMTPAuthenticationError),
        ) from None
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryFailed(
            f"Cannot reach the mail server {smtp.host}:{smtp.port}: {error}."
        ) from None


def _connect(smtp: SmtpConfig) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=smtp.ca_file)
    if smtp.security == "tls":
        return smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
    server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    try:
        server.ehlo()
        if smtp.security == "starttls":
            server.starttls(context=context)
            server.ehlo()
    except BaseException:
        server.close()
        raise
    return server


def _first_refusal(error: smtplib.SMTPRecipientsRefused) -> str:
    for code, text in error.recipients.values():
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    return "no reason given"


# --- SMS --------------------------------------------------------------------------------------


def send_sms(sms: SmsConfig, to: str, body: str, message_id: str) -> None:
    """Hand one text to the SMS provider (Twilio's Messages API, or a plain JSON POST)."""
    try:
        if sms.provider == "twilio":
            base = (sms.url or TWILIO_API).rstrip("/")
            response = requests.post(
                f"{base}/2010-04-01/Accounts/{sms.account}/Messages.json",
                data={"To": to, "From": sms.sender or "", "Body": body},
                auth=(sms.account or "", sms.token or ""),
                timeout=sms.timeout_s,
                allow_redirects=False,
            )
        else:
            headers = {"Idempotency-Key": message_id}
            if sms.token:
                headers["Authorization"] = f"Bearer {sms.token}"
            response = requests.post(
                sms.url or "",
                json={"id": message_id, "to": to, "from": sms.sender, "text": body},
                headers=headers,
                timeout=sms.timeout_s,
                allow_redirects=False,
            )
    except requests.RequestException as error:
        raise DeliveryFailed(f"Cannot reach the SMS provider: {type(error).__name__}.") from None
    _check_answer("The SMS provider", response)


def _check_answer(who: str, response: requests.Response) -> None:
    if 200 <= response.status_code < 300:
        return
    retryable = response.status_code >= 500 or response.status_code in (408, 409, 425, 429)
    raise DeliveryFailed(
        f"{who} answered {response.status_code} {response.text[:200]!r}.", permanent=not retryable
    )


# --- webhooks ---------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The Booking-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def post_webhook(config: OutboundConfig, url: str, secret: str, envelope: dict[str, Any]) -> None:
    """POST one delivery, signed now; any answer but 2xx is a failure worth retrying."""
    body = json_codec.dumps(envelope).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "booking-service-webhooks",
        "Booking-Webhook-Id": envelope["id"],
        "Booking-Event": envelope["type"],
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
    }
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=config.webhook_timeout_s, allow_redirects=False
        )
    except requests.RequestException as error:
        raise DeliveryFailed(f"Cannot reach {url}: {type(error).__name__}.") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{url} answered {response.status_code}.")
