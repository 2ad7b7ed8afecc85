"""Two pools of waitress worker threads: an expensive request runs beside the quick ones.

Python runs one thread at a time, and threads running Python side by side hand the GIL back and
forth around every SQLite call: 4 or 8 threads made creates about a third slower than one
(README § Performance). So the quick requests keep one thread of their own, and the routes whose
cost grows with a window or with blockers (HEAVY) get a second pool. When no expensive request
is running that pool sleeps and costs nothing; when one runs, /healthz and the quick requests
still have their thread, and the expensive one ends by its deadline (app/core/deadline.py).

waitress takes a dispatcher through `create_server(_dispatcher=...)`; this one hands each request
to the pool its Flask endpoint belongs to. Pipelined requests on one connection are routed one
at a time, as waitress queues them.
"""

from __future__ import annotations

import functools
import sys
import threading

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.task import ThreadedTaskDispatcher
from werkzeug.exceptions import HTTPException

HEAVY = frozenset(
    {
        "resources.get_resource_availability",
        "blockers.list_blockers",
        "blockers.create_blocker",
        "ui.day",
        "ui.new_booking",
        "ui.blockers_page",
        "ui.create_blocker",
        "counter.create_closure",
        "calendar.get_calendar_feed",  # a year ahead of bookings, and repeating blockers
        "ui.week",
    }
)


# How long a thread running Python may keep the GIL before another that wants it gets it.
# Python's 5 ms default made a create wait up to 5 ms at each SQLite call while a heavy
# request computed beside it: with two pools, creates under a mixed load ran at half the
# rate of one pool. At 0.5 ms they keep most of it (README § Performance has the figures).
# With one quick thread the interval is short only while a heavy request runs: otherwise the
# only other thread is waitress's socket loop, and 0.5 ms cost creates about a tenth of their
# CPU in forced GIL hand-overs.
SWITCH_INTERVAL_S = 0.0005
PYTHON_SWITCH_INTERVAL_S = 0.005


def share_the_gil(threads: int, heavy_threads: int) -> None:
    """With several quick worker threads, let a waiting thread have the GIL sooner, always."""
    if threads > 1:
        sys.setswitchinterval(SWITCH_INTERVAL_S)


class _SharingWhileRunning:
    """A heavy request's task: the switch interval is short from its start to the end of the
    last heavy request running, so quick requests are answered beside it."""

    running = 0
    _guard = threading.Lock()

    def __init__(self, channel: HTTPChannel, always_short: bool) -> None:
        self.channel, self.always_short = channel, always_short

    def service(self) -> None:
        with self._guard:
            type(self).running += 1
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            self.channel.service()
        finally:
            with self._guard:
                type(self).running -= 1
                if not self.running and not self.always_short:
                    sys.setswitchinterval(PYTHON_SWITCH_INTERVAL_S)

    def cancel(self) -> None:
        self.channel.cancel()


def _pool(threads: int) -> ThreadedTaskDispatcher:
    pool = ThreadedTaskDispatcher()
    pool.set_thread_count(threads)
    return pool


class Pools:
    """A waitress task dispatcher over a quick pool and a heavy one (heavy_threads=0: one pool)."""

    def __init__(self, app: Flask, threads: int, heavy_threads: int) -> None:
        self.quick = _pool(threads)
        self.heavy = _pool(heavy_threads) if heavy_threads else self.quick
        self.quick_threads = threads
        self.urls = app.url_map.bind("localhost")
        # Matching runs on waitress's socket thread for every request; a counter sends the same
        # few paths (POST /bookings, GET /bookings?...) over and over, and routes never change.
        self._heavy_by_path = functools.lru_cache(maxsize=1024)(self._match_heavy)

    def is_heavy(self, method: str, path: str) -> bool:
        return self._heavy_by_path(method, path)

    def _match_heavy(self, method: str, path: str) -> bool:
        try:
            endpoint, _ = self.urls.match(path, method)
        except HTTPException:  # not found, wrong method or a redirect: quick to answer
            return False
        return endpoint in HEAVY

    def add_task(self, channel: HTTPChannel) -> None:
        request = channel.requests[0]
        if self.heavy is not self.quick and self.is_heavy(request.command, request.path):
            self.heavy.add_task(_SharingWhileRunning(channel, always_short=self.quick_threads > 1))
        else:
            self.quick.add_task(channel)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        stopped = self.quick.shutdown(cancel_pending, timeout)
        if self.heavy is not self.quick:
            stopped = self.heavy.shutdown(cancel_pending, timeout) and stopped
        return stopped
