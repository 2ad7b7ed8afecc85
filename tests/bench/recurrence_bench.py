"""`make bench`, fourth table: what the worst allowed blockers cost (issue 12).

Worst allowed: a blocker occurring 24 times a day (the most), each occurrence 31 days long
(the longest), repeating forever. Printed as ratios to the same request without such blockers,
or near the blocker's start, since absolute times move with the machine's load:

- a windowed blocker list one day long in year 8999 against one in 2030 (expansion restarts
  near the window instead of walking from 2030);
- 31 days of 5-minute availability with WORST_BLOCKERS of them against an empty resource;
- /healthz while the costliest allowed request runs: 31 days of 1-minute availability with
  DEADLINE_BLOCKERS of them, which runs into the request deadline, in a loop on one connection.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.bench.servers import SECONDS, bench_key, make_resources, use_key
from tests.live.server import LiveServer

EVERY_HOUR = ",".join(str(hour) for hour in range(24))
WORST_BLOCKERS = 10
DEADLINE_BLOCKERS = 300
MARCH = "from=2030-03-01T00:00:00Z&to=2030-04-01T00:00:00Z"


def _add_worst_blockers(server: LiveServer, resource_id: str, count: int) -> None:
    worst = {
        "resource_id": resource_id,
        "start_time": "2030-01-01T00:00:00Z",
        "end_time": "2030-02-01T00:00:00Z",
        "recurrence": {"rrule": f"FREQ=DAILY;BYHOUR={EVERY_HOUR}"},
    }
    for _ in range(count):
        response = server.request("POST", "/modules/booking/blockers", json=worst)
        assert response.status_code == 201, response.text


def _median_ms(server: LiveServer, path: str, seconds: float) -> tuple[float, set[int]]:
    """Median latency of `path` asked in a loop for `seconds`, and the statuses seen."""
    session = requests.Session()
    session.headers.update(server.headers)
    latencies, statuses = [], set()
    stop = time.monotonic() + seconds
    while time.monotonic() < stop or not latencies:
        started = time.perf_counter()
        response = session.get(f"{server.url}{path}", timeout=60)
        latencies.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    return statistics.median(latencies), statuses


def _healthz_beside(server: LiveServer, path: str, seconds: float) -> tuple[list[float], dict]:
    """/healthz latencies (ms) every 50 ms while `path` is asked in a loop on another thread."""
    done = threading.Event()
    statuses: dict[int, int] = {}

    def heavy() -> None:
        session = requests.Session()
        session.headers.update(server.headers)
        while not done.is_set():
            status = session.get(f"{server.url}{path}", timeout=60).status_code
            statuses[status] = statuses.get(status, 0) + 1

    worker = threading.Thread(target=heavy)
    worker.start()
    time.sleep(0.2)
    latencies = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        started = time.perf_counter()
        requests.get(f"{server.url}/healthz", timeout=10)
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    done.set()
    worker.join()
    return latencies, statuses


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="booking-bench-recurrence-"))
    db_path = str(folder / "recurrence.db")
    headers = bench_key(db_path)
    with LiveServer(db_path) as server:
        use_key(server, headers)
        empty, worst, deadline = make_resources(server, 3)
        _add_worst_blockers(server, worst, WORST_BLOCKERS)
        _add_worst_blockers(server, deadline, DEADLINE_BLOCKERS)
        phase = SECONDS / 5
        lists = {
            year: _median_ms(
                server,
                f"/modules/booking/blockers?resource_id={worst}&from={year}-06-01T00:00:00Z"
                f"&to={year}-06-02T00:00:00Z&limit=100",
                phase,
            )
            for year in (2030, 8999)
        }
        availability = "/modules/booking/resources/{}/availability?{}&duration_minutes=30"
        slots = {
            name: _median_ms(server, availability.format(rid, MARCH) + "&step_minutes=5", phase)
            for name, rid in (("empty", empty), ("worst", worst))
        }
        costliest = availability.format(deadline, MARCH) + "&step_minutes=1&duration_minutes=1"
        healthz, costliest_statuses = _healthz_beside(server, costliest, phase * 2)

    print(
        f"\nWorst allowed blockers (24 a day, 31-day occurrences; {WORST_BLOCKERS} on a resource)"
    )
    rows = [
        (
            "blocker list, 1 day in 8999 / in 2030, p50",
            f"{lists[8999][0]:6.1f} / {lists[2030][0]:5.1f} ms",
            f"{lists[8999][0] / lists[2030][0]:4.2f}x (statuses {sorted(lists[8999][1])})",
        ),
        (
            f"31-day availability, {WORST_BLOCKERS} worst blockers / none, p50",
            f"{slots['worst'][0]:6.1f} / {slots['empty'][0]:5.1f} ms",
            f"{slots['worst'][0] / slots['empty'][0]:4.2f}x (statuses {sorted(slots['worst'][1])})",
        ),
        (
            f"/healthz beside the costliest request ({DEADLINE_BLOCKERS} worst), p50 / max",
            f"{statistics.median(healthz):6.1f} / {max(healthz):5.1f} ms",
            f"costliest answered {dict(sorted(costliest_statuses.items()))} (target max < 1000 ms)",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>20}  {note}")


if __name__ == "__main__":
    main()
