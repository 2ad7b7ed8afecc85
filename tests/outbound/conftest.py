"""Fixtures for the outbound tests: real SMTP and HTTP servers, and a config reaching them."""

from __future__ import annotations

import pytest

from app.outbound.config import OutboundConfig, SmsConfig, SmtpConfig
from tests.outbound.servers import SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer


@pytest.fixture
def smtp_server(tmp_path):
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_config(smtp_server) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=smtp_server.port,
        security="starttls",
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        sender="desk@shop.example",
        ca_file=smtp_server.ca_file,
        timeout_s=5,
    )


@pytest.fixture
def outbound(smtp_config, receiver) -> OutboundConfig:
    """Email through the test's SMTP server, SMS as JSON to the test's receiver."""
    sms = SmsConfig(
        provider="json",
        url=f"{receiver.url}/sms",
        account=None,
        token="sms-token",
        sender="+15550000000",
        timeout_s=5,
    )
    return OutboundConfig(
        smtp=smtp_config,
        sms=sms,
        max_attempts=3,
        retry_base_s=30,
        webhook_max_failures=3,
        webhook_timeout_s=5,
    )
