"""A cap on the worker threads that expensive requests may hold under `booking serve`.

The routes whose cost grows with a window or with blockers (HEAVY) may hold at most
`threads - 2` waitress worker threads at once; one more is refused at once with 503
`request_too_expensive` and `Retry-After`. So however many expensive requests arrive together,
two threads stay free for /healthz and the quick requests, and each expensive one ends by its
deadline (app/deadline.py).
"""

from __future__ import annotations

import threading

from flask import Flask, g, request

from app.errors import RequestTooExpensive

HEAVY = frozenset(
    {
        "resources.resource_availability",
        "blockers.list_blockers",
        "blockers.create_blocker",
        "ui.day",
        "ui.new_booking",
        "ui.blockers_page",
        "ui.create_blocker",
    }
)


class HeavyRequests:
    def __init__(self, threads: int) -> None:
        self.slots = threading.BoundedSemaphore(max(1, threads - 2))

    def enter(self) -> None:
        if request.endpoint not in HEAVY:
            return
        if not self.slots.acquire(blocking=False):
            raise RequestTooExpensive(
                "The server is busy with other expensive requests; retry in a few seconds.",
                headers={"Retry-After": "5"},
            )
        g.heavy_slot = True

    def leave(self, _error: BaseException | None) -> None:
        if g.pop("heavy_slot", False):
            self.slots.release()


def install(app: Flask, threads: int) -> None:
    """Cap `app`'s expensive requests for a server with `threads` worker threads."""
    heavy = HeavyRequests(threads)
    app.before_request(heavy.enter)
    app.teardown_request(heavy.leave)
