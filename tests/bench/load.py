"""A small closed-loop HTTP load generator: N keep-alive connections, one thread each.

The generator shares the machine's two cores with the server, so it must cost the server as
little as possible: requests are pre-rendered bytes on raw sockets and only the status line and
Content-Length of each response are read. That costs about 70-110 µs of client CPU a request,
against 280-350 µs through http.client in a process per connection, which capped the bare
ceiling endpoints below what the server could do. Threads are enough: a thread waiting on its
socket does not hold the GIL. `client_cpu_us` reports what the generator spent.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from dataclasses import dataclass, field

BASE_MS = 1_893_456_000_000  # 2030-01-01T00:00:00Z
HEADER_END = b"\r\n\r\n"


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    client_cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def client_cpu_us(self) -> float:
        """The generator's own CPU time per request."""
        return self.client_cpu_s / max(self.requests, 1) * 1e6

    @classmethod
    def merged(cls, results: list[Result]) -> Result:
        """One result for several runs of the same load, as if they had run back to back."""
        statuses: dict[int, int] = {}
        for result in results:
            for status, count in result.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        return cls(
            requests=sum(r.requests for r in results),
            seconds=sum(r.seconds for r in results),
            latencies_ms=[x for r in results for x in r.latencies_ms],
            statuses=statuses,
            client_cpu_s=sum(r.client_cpu_s for r in results),
            errors=[e for r in results for e in r.errors],
        )

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _iso(millis: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(millis / 1000))


def _request(kind: str, worker: int, i: int, params: dict) -> tuple[str, str, str | None]:
    if kind == "json":
        return "GET", "/", None
    if kind == "insert":
        return "POST", "/", json.dumps({"worker": worker, "i": i, "note": "x" * 40})
    if kind == "booking":
        # Each worker books its own resource, one hour apart: every create passes the overlap
        # check against real neighbours and succeeds.
        start = params["start_ms"] + i * 3_600_000
        body = {
            "resource_id": params["resources"][worker],
            "start_time": _iso(start),
            "duration_minutes": 30,
            "title": "bench",
        }
        return "POST", "/modules/booking/bookings", json.dumps(body)
    if kind == "get":
        return "GET", f"/modules/booking/bookings/{params['booking_id']}", None
    if kind == "availability":
        # A heavy read: the longest window (31 days) in 5-minute steps, about 9,000 slots.
        window = f"from={_iso(params['start_ms'])}&to={_iso(params['start_ms'] + 31 * 86_400_000)}"
        path = f"/modules/booking/resources/{params['resource_id']}/availability"
        return "GET", f"{path}?{window}&duration_minutes=30&step_minutes=5", None
    if kind == "list":
        day = random.randrange(params["days"])
        start = BASE_MS + day * 86_400_000
        query = f"from={_iso(start)}&to={_iso(start + 86_400_000)}&limit=25"
        if params.get("resource"):
            query += f"&resource_id={random.choice(params['resources'])}"
        return "GET", f"/modules/booking/bookings?{query}", None
    raise ValueError(kind)


def render(method: str, path: str, body: str | None, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 keep-alive request as bytes."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    data = body.encode() if body is not None else b""
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def read_response(sock: socket.socket, pending: bytes) -> tuple[int, bytes]:
    """Read one response; return its status and whatever bytes followed it."""
    while HEADER_END not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        pending += chunk
    head, _, rest = pending.partition(HEADER_END)
    length = _content_length(head)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-body")
        rest += chunk
    return int(head[9:12]), rest[length:]


class _Worker:
    def __init__(self, kind: str, worker: int, port: int, headers: dict, params: dict) -> None:
        self.kind, self.worker, self.port = kind, worker, port
        self.headers, self.params = headers, params
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.error: str | None = None

    def run(self, deadline: float, max_requests: int) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._loop(sock, deadline, max_requests)
        except OSError as error:
            self.error = f"connection {self.worker}: {error}"

    def _loop(self, sock: socket.socket, deadline: float, max_requests: int) -> None:
        pending, i = b"", 0
        while time.perf_counter() < deadline and i < max_requests:
            request = render(*_request(self.kind, self.worker, i, self.params), self.headers)
            sent = time.perf_counter()
            sock.sendall(request)
            status, pending = read_response(sock, pending)
            self.latencies.append((time.perf_counter() - sent) * 1000)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            i += 1


def run(
    kind: str,
    port: int,
    *,
    connections: int = 8,
    seconds: float = 5.0,
    max_requests: int = 10**9,
    headers: dict[str, str] | None = None,
    params: dict | None = None,
) -> Result:
    """Drive `kind` requests at 127.0.0.1:port over `connections` keep-alive connections."""
    random.seed(0)
    workers = [_Worker(kind, w, port, headers or {}, params or {}) for w in range(connections)]
    cpu_before, started = _cpu_seconds(), time.perf_counter()
    deadline = started + seconds
    threads = [threading.Thread(target=w.run, args=(deadline, max_requests)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    statuses: dict[int, int] = {}
    for worker in workers:
        for status, count in worker.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return Result(
        requests=sum(len(w.latencies) for w in workers),
        seconds=elapsed,
        latencies_ms=[x for w in workers for x in w.latencies],
        statuses=statuses,
        client_cpu_s=_cpu_seconds() - cpu_before,
        errors=[w.error for w in workers if w.error],
    )


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system
