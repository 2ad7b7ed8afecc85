"""The real server refuses an over-limit body without reading it (issue #12, item 5).

Raw sockets, because an HTTP client would insist on sending the body it declared.
"""

from __future__ import annotations

import socket
import sqlite3
import time

from tests.live.server import HOST, LiveServer

CUSTOMERS = "/modules/booking/customers"
LIMIT = 1024 * 1024


def _head(server: LiveServer, extra: str) -> bytes:
    return (
        f"POST {CUSTOMERS} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n"
        f"Authorization: Bearer {server.admin_key}\r\nContent-Type: application/json\r\n"
        f"{extra}\r\n"
    ).encode()


def _answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (or 5 s pass)."""
    sock.settimeout(5)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def _customers(server: LiveServer) -> int:
    with sqlite3.connect(server.db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]


def test_a_declared_300_mb_body_is_refused_at_once_without_being_sent(live_server):
    started = time.monotonic()
    with socket.create_connection((HOST, live_server.port), timeout=5) as sock:
        sock.sendall(_head(live_server, "Content-Length: 300000000\r\n"))  # and no body at all
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 2
    assert _customers(live_server) == 0


def test_a_chunked_body_is_cut_off_at_the_limit(live_server):
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection((HOST, live_server.port), timeout=5) as sock:
        sock.sendall(_head(live_server, "Transfer-Encoding: chunked\r\n"))
        sent = 0
        try:
            while sent <= 4 * LIMIT:  # the server must stop taking it long before this
                sock.sendall(framed)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert _customers(live_server) == 0


def test_a_body_at_the_limit_still_reaches_the_app(live_server):
    body = b'{"name": "Ada", "notes": "' + b"x" * (LIMIT - 100) + b'"}'
    with socket.create_connection((HOST, live_server.port), timeout=5) as sock:
        sock.sendall(_head(live_server, f"Content-Length: {len(body)}\r\nConnection: close\r\n"))
        sock.sendall(body)
        answer = _answer(sock)
    # The app read it and refused the unknown field: proof the body was let through.
    assert answer.startswith(b"HTTP/1.1 422"), answer[:200]
    assert b"Unknown field 'notes'" in answer
