"""A small closed-loop HTTP load generator: N processes, one keep-alive connection each.

Processes, not threads, so the client's GIL does not cap the server's measured rate.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import time
from dataclasses import dataclass

BASE_MS = 1_893_456_000_000  # 2030-01-01T00:00:00Z


@dataclass
class Result:
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

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
    if kind == "list":
        day = random.randrange(params["days"])
        start = BASE_MS + day * 86_400_000
        query = f"from={_iso(start)}&to={_iso(start + 86_400_000)}&limit=25"
        if params.get("resource"):
            query += f"&resource_id={random.choice(params['resources'])}"
        return "GET", f"/modules/booking/bookings?{query}", None
    raise ValueError(kind)


def _worker(args: tuple) -> tuple[int, list[float], dict[int, int]]:
    kind, worker, port, headers, seconds, max_requests, params = args
    random.seed(worker)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline and i < max_requests:
        method, path, body = _request(kind, worker, i, params)
        sent = time.perf_counter()
        connection.request(
            method, path, body=body, headers={**headers, "Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        latencies.append((time.perf_counter() - sent) * 1000)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        i += 1
    connection.close()
    return i, latencies, statuses


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
    """Drive `kind` requests at 127.0.0.1:port from `connections` processes."""
    jobs = [
        (kind, w, port, headers or {}, seconds, max_requests, params or {})
        for w in range(connections)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        parts = pool.map(_worker, jobs)
    elapsed = time.perf_counter() - started
    statuses: dict[int, int] = {}
    for _, _, part in parts:
        for status, count in part.items():
            statuses[status] = statuses.get(status, 0) + count
    return Result(
        requests=sum(n for n, _, _ in parts),
        seconds=elapsed,
        latencies_ms=[x for _, lat, _ in parts for x in lat],
        statuses=statuses,
    )
