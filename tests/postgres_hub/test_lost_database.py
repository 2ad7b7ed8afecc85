"""A hub process that loses its PostgreSQL database answers 503 and recovers by itself (HUB.md).

`booking serve --db postgresql://…` runs as a real process on a server of this test's own;
requests keep coming while the test stops the cluster and starts it again. The same process
must answer 503 with Retry-After meanwhile (the API in its JSON envelope, the pages with an
error page, never a traceback), 200 again once the database is back, and hold every write it
acknowledged.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.live.server import LiveServer
from tests.live.sync_cluster import CUSTOMERS, wait_for
from tests.postgres import ThrowawayServer
from tests.postgres_hub.live_hub import hub_env

pytestmark = pytest.mark.live

RECOVERY_TIMEOUT_S = 30.0  # for the process to answer 200 again once the database is back
REQUEST_TIMEOUT_S = 15.0  # one request; a lost database must be answered well within it


class Writer:
    """Creates customers one after another until stopped; keeps what the hub acknowledged."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.acknowledged: list[str] = []
        self.statuses: list[int] = []
        self.bodies_with_traceback: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT_S * 2)

    def _run(self) -> None:
        number = 0
        with requests.Session() as session:
            while not self._stop.is_set():
                number += 1
                try:
                    response = session.post(
                        f"{self.server.url}{CUSTOMERS}",
                        json={"name": f"Walk-in {number:04d}"},
                        headers=self.server.headers,
                        timeout=REQUEST_TIMEOUT_S,
                    )
                except requests.RequestException:
                    self.statuses.append(0)
                    continue
                self.statuses.append(response.status_code)
                if "Traceback" in response.text:
                    self.bodies_with_traceback.append(response.text)
                if response.status_code == 201:
                    self.acknowledged.append(response.json()["data"]["id"])
                else:
                    time.sleep(0.05)  # a 503 asks us to wait; a real client would wait longer


@pytest.fixture
def hub(private_postgres: ThrowawayServer, tmp_path: Path) -> Iterator[LiveServer]:
    url = private_postgres.create_database(name="hub")
    server = LiveServer(url, env=hub_env(tmp_path)).start()
    yield server
    server.stop()


def _signed_in_page_session(server: LiveServer) -> requests.Session:
    """A browser-like session signed in to the pages with the admin key."""
    session = requests.Session()
    form = session.get(f"{server.url}/signin", timeout=REQUEST_TIMEOUT_S).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, form
    signed_in = session.post(
        f"{server.url}/signin",
        data={"api_key": server.admin_key, "csrf_token": token.group(1)},
        timeout=REQUEST_TIMEOUT_S,
    )
    assert signed_in.status_code == 200 and "Signed in" in signed_in.text, signed_in.text
    return session


def _all_customer_ids(server: LiveServer) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        body = server.request("GET", CUSTOMERS, params=params).json()
        found.update(customer["id"] for customer in body["data"])
        cursor = body["meta"]["next_cursor"]
        if not cursor:
            return found


def test_a_lost_database_is_503_with_retry_after_and_the_same_process_recovers(
    hub, private_postgres
):
    pages = _signed_in_page_session(hub)
    with Writer(hub) as writer:
        wait_for(lambda: len(writer.acknowledged) >= 5, timeout=30, what="writes before the loss")
        private_postgres.stop("immediate")  # as a crash or a lost network would
        lost_api = hub.request("GET", CUSTOMERS, timeout=REQUEST_TIMEOUT_S)
        lost_write = hub.request(
            "POST", CUSTOMERS, json={"name": "Nobody"}, timeout=REQUEST_TIMEOUT_S
        )
        lost_page = pages.get(f"{hub.url}/customers", timeout=REQUEST_TIMEOUT_S)
        lost_health = requests.get(f"{hub.url}/healthz", timeout=REQUEST_TIMEOUT_S)
        acknowledged_before_restart = len(writer.acknowledged)
        private_postgres.start()
        wait_for(
            lambda: len(writer.acknowledged) > acknowledged_before_restart,
            timeout=RECOVERY_TIMEOUT_S,
            what="a write acknowledged after the database came back",
        )

    for response in (lost_api, lost_write):
        assert response.status_code == 503, response.text
        assert int(response.headers["Retry-After"]) > 0
        assert response.json()["status"] == "error"
        assert response.json()["error"]["code"] == "storage_unavailable"
    assert lost_page.status_code == 503
    assert lost_page.headers["Content-Type"].startswith("text/html")
    assert int(lost_page.headers["Retry-After"]) > 0
    assert "Cannot save now" in lost_page.text and "Traceback" not in lost_page.text
    assert lost_health.status_code == 503
    assert 503 in writer.statuses  # the writer met the loss too, and was told to retry
    assert set(writer.statuses) <= {201, 503}, sorted(set(writer.statuses))
    assert writer.bodies_with_traceback == []

    assert hub.process is not None and hub.process.poll() is None  # the same process
    assert requests.get(f"{hub.url}/healthz", timeout=REQUEST_TIMEOUT_S).status_code == 200
    assert pages.get(f"{hub.url}/customers", timeout=REQUEST_TIMEOUT_S).status_code == 200
    held = _all_customer_ids(hub)
    assert set(writer.acknowledged) <= held  # nothing acknowledged was lost
    assert "Nobody" not in {c["name"] for c in hub.request("GET", CUSTOMERS).json()["data"]}
    hub.stop()
    assert "Unhandled error while serving a request" not in hub.read_output()[1]
    assert "Exception on /" not in hub.read_output()[1]
