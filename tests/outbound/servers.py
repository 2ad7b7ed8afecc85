"""Real servers the outbound tests talk to: an SMTP server (aiosmtpd) that insists on STARTTLS
and a login, and an HTTP receiver that records every request and answers as it is told."""

from __future__ import annotations

import email
import email.policy
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.live.server import find_free_port

SMTP_USER, SMTP_PASSWORD = "shop", "s3cret"


@dataclass
class Arrived:
    """One email as the SMTP server took it, and how the client got there."""

    message: email.message.EmailMessage
    recipients: list[str]
    over_tls: bool
    login: str | None


class _MailHandler:
    def __init__(self, inbox: list[Arrived]) -> None:
        self.inbox = inbox
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        proof = session.auth_data
        login = proof.login.decode() if isinstance(proof, LoginPassword) else None
        self.inbox.append(Arrived(parsed, list(envelope.rcpt_tos), session.ssl is not None, login))
        return "250 Message accepted"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=good, auth_data=auth_data if good else None)


class SmtpServer:
    """aiosmtpd on 127.0.0.1: STARTTLS required (a certificate from a throw-away CA whose file
    is `ca_file`), AUTH required after it."""

    def __init__(self, tmp_path) -> None:
        self.ca = trustme.CA()
        self.ca_file = str(tmp_path / "smtp-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.inbox: list[Arrived] = []
        self.handler = _MailHandler(self.inbox)
        self.port = find_free_port()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            authenticator=_authenticate,
        )

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """A local HTTP server: records requests; answers `statuses` in turn, then `default`."""

    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    default: int = 200

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    Received("POST", self.path, dict(self.headers.items()), body)
                )
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
