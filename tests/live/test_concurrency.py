"""Racing requests for one slot at the real `booking serve` (API.md §4: atomic creates)."""

import threading

import pytest
import requests

pytestmark = pytest.mark.live

RACERS = 24


def test_simultaneous_requests_for_one_slot_give_exactly_one_booking(live_server):
    resource = live_server.request(
        "POST", "/modules/booking/resources", json={"name": "Chair 1"}
    ).json()["data"]
    body = {"resource_id": resource["id"], "start_time": "2030-01-07T10:00:00Z"}
    barrier = threading.Barrier(RACERS)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def race(offset_minutes: int) -> None:
        # Different start minutes inside the same hour: every pair of them overlaps.
        payload = {**body, "start_time": f"2030-01-07T10:{offset_minutes:02d}:00Z"}
        with requests.Session() as session:
            barrier.wait(timeout=30)
            response = session.post(
                f"{live_server.url}/modules/booking/bookings",
                json=payload,
                headers=live_server.headers,
                timeout=30,
            )
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(response.status_code for response in responses)
    assert len(responses) == RACERS
    assert statuses.count(201) == 1, statuses
    assert statuses.count(422) == RACERS - 1, statuses
    assert all(
        r.json()["error"]["code"] == "slot_conflict" for r in responses if r.status_code == 422
    )
    listed = live_server.request("GET", f"/modules/booking/bookings?resource_id={resource['id']}")
    assert len(listed.json()["data"]) == 1
    live_server.stop()
    _, stderr = live_server.read_output()
    assert "database is locked" not in stderr
    assert "Traceback" not in stderr
