"""The sender's own guarantees: two senders on one database never both take a message, and
`booking serve` refuses settings that cannot work, in one sentence."""

from __future__ import annotations

import threading
import time

import pytest
from click.testing import CliRunner

from app import store
from app.cli import cli
from app.cli_outbound import prepare_sender
from app.core.times import wall_ms
from app.outbound.sender import send_due
from app.settings import SETTINGS
from tests.outbound.helpers import book, days_ahead


def test_two_senders_on_one_database_hand_over_each_message_once(
    client, admin_headers, db_path, make_resource, make_customer, outbound
):
    resource = make_resource()
    for number in range(6):
        customer = make_customer(name=f"C{number}", email=f"c{number}@example.com")
        book(client, admin_headers, resource["id"], days_ahead(3 + number), customer["id"])
    handed: list[str] = []

    def slow_delivery(_config, message, _judgement):
        time.sleep(0.02)  # long enough for the other sender to look for work meanwhile
        handed.append(message["id"])

    def sender() -> None:
        own = store.open_db(db_path)
        try:
            send_due(own, outbound, now=wall_ms() + 1_000, deliver=slow_delivery)
        finally:
            own.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(handed) == 6 and len(set(handed)) == 6


@pytest.fixture
def env(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(f"BOOKING_{name}", raising=False)
    return monkeypatch


def test_a_node_with_a_hub_leaves_sending_to_the_hub(env):
    assert prepare_sender("./x.db", "http://hub:8080") is None
    env.setenv("BOOKING_SEND_MESSAGES", "never")
    assert prepare_sender("./x.db", None) is None
    env.setenv("BOOKING_SEND_MESSAGES", "auto")
    assert prepare_sender("./x.db", None) is not None


@pytest.mark.parametrize(
    "settings, sentence",
    [
        ({"BOOKING_SMTP_HOST": "mail.example"}, "Set BOOKING_SMTP_FROM"),
        (
            {
                "BOOKING_SMTP_HOST": "mail.example",
                "BOOKING_SMTP_FROM": "a@b.example",
                "BOOKING_SMTP_SECURITY": "ssl3",
            },
            "BOOKING_SMTP_SECURITY must be one of starttls, tls, none.",
        ),
        ({"BOOKING_SMS_PROVIDER": "pigeon"}, "BOOKING_SMS_PROVIDER must be one of twilio, json."),
        ({"BOOKING_SMS_PROVIDER": "json"}, "The json SMS provider needs BOOKING_SMS_URL."),
        ({"BOOKING_SEND_MESSAGES": "sometimes"}, "BOOKING_SEND_MESSAGES must be auto or never."),
    ],
)
def test_serve_refuses_outbound_settings_that_cannot_work(env, db_path, settings, sentence):
    for name, value in settings.items():
        env.setenv(name, value)
    result = CliRunner().invoke(cli, ["serve", "--db", db_path, "--port", "0"])
    assert result.exit_code == 1
    assert sentence in result.output and "Traceback" not in result.output
