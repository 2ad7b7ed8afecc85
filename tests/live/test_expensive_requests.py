"""No request holds a real `booking serve` (issue 12 item 2): while the costliest allowed request
runs, /healthz answers within a second; past its deadline a request gets 503
request_too_expensive and the server answers the next ones.

The costliest allowed request: 31 days of 1-minute availability on a resource carrying blockers
at every bound (24 occurrences a day, each 31 days long), enough of them to run into the
deadline. The one-second bound on /healthz is a correctness bound, not a benchmark.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.live.server import LiveServer

pytestmark = pytest.mark.live

EVERY_HOUR = ",".join(str(hour) for hour in range(24))
WORST_BLOCKERS = 120
AVAILABILITY = (
    "/modules/booking/resources/{}/availability?from=2030-03-01T00:00:00Z"
    "&to=2030-04-01T00:00:00Z&duration_minutes=1&step_minutes=1"
)


def _worst_resource(server: LiveServer) -> str:
    resource = server.request("POST", "/modules/booking/resources", json={"name": "Worst"})
    resource_id = resource.json()["data"]["id"]
    worst = {
        "resource_id": resource_id,
        "start_time": "2030-01-01T00:00:00Z",
        "end_time": "2030-02-01T00:00:00Z",  # 31 days, the longest occurrence
        "recurrence": {"rrule": f"FREQ=DAILY;BYHOUR={EVERY_HOUR}"},  # 24 a day, the most
    }
    for _ in range(WORST_BLOCKERS):
        response = server.request("POST", "/modules/booking/blockers", json=worst)
        assert response.status_code == 201, response.text
    return resource_id


class Background:
    """One request on its own thread; .response once it is done."""

    def __init__(self, server: LiveServer, path: str) -> None:
        self.response: requests.Response | None = None
        self.thread = threading.Thread(target=self._run, args=(server, path))
        self.thread.start()

    def _run(self, server: LiveServer, path: str) -> None:
        self.response = server.request("GET", path, timeout=60)

    def running(self) -> bool:
        return self.thread.is_alive()

    def join(self) -> requests.Response:
        self.thread.join(timeout=60)
        assert self.response is not None
        return self.response


def _healthz_seconds(server: LiveServer) -> float:
    started = time.monotonic()
    response = requests.get(f"{server.url}/healthz", timeout=5)
    assert response.status_code == 200
    return time.monotonic() - started


def _assert_too_expensive(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "request_too_expensive"
    assert "s of work and was stopped" in error["message"]
    assert response.headers["Retry-After"] == "5"


def test_healthz_answers_within_a_second_while_the_costliest_request_runs(start_live_server):
    server = start_live_server()  # the defaults: 1 quick and 1 heavy thread, a 2 s deadline
    heavy = Background(server, AVAILABILITY.format(_worst_resource(server)))
    time.sleep(0.2)  # let it start
    latencies = []
    while heavy.running():
        latency = _healthz_seconds(server)
        if heavy.running():  # answered while the heavy request was still being worked on
            latencies.append(latency)
        time.sleep(0.05)
    response = heavy.join()
    assert latencies, "the costly request ended before /healthz was asked"
    assert max(latencies) < 1.0, latencies
    if response.status_code != 200:
        _assert_too_expensive(response)


def test_a_request_past_its_deadline_is_503_and_the_server_answers_the_next(start_live_server):
    server = start_live_server(env={"BOOKING_REQUEST_DEADLINE_MS": "200"})
    resource_id = _worst_resource(server)
    listed = server.request("GET", "/modules/booking/blockers?limit=100").json()
    _assert_too_expensive(server.request("GET", AVAILABILITY.format(resource_id)))
    assert _healthz_seconds(server) < 1.0
    again = server.request("GET", f"/modules/booking/resources/{resource_id}")
    assert again.status_code == 200
    assert server.request("GET", "/modules/booking/blockers?limit=100").json() == listed


def test_expensive_requests_queue_in_their_own_pool_not_in_front_of_quick_ones(
    start_live_server,
):
    server = start_live_server()  # one quick thread, one heavy thread
    resource_id = _worst_resource(server)
    path = AVAILABILITY.format(resource_id)
    heavy = [Background(server, path) for _ in range(3)]  # one runs, two wait their turn
    time.sleep(0.2)
    assert all(request.running() for request in heavy)
    started = time.monotonic()
    quick = server.request("GET", f"/modules/booking/resources/{resource_id}")
    assert quick.status_code == 200
    assert time.monotonic() - started < 1.0
    assert _healthz_seconds(server) < 1.0
    assert any(request.running() for request in heavy)
    for request in heavy:
        response = request.join()
        if response.status_code != 200:
            _assert_too_expensive(response)
