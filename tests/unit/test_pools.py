"""serve's worker pools: a waiting thread gets the GIL sooner while another computes beside it."""

from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import pytest

from app.web.pools import HEAVY, SWITCH_INTERVAL_S, Pools, share_the_gil


@pytest.fixture
def switch_interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize(
    ("threads", "heavy", "shortened"), [(1, 0, False), (1, 1, False), (4, 0, True)]
)
def test_the_switch_interval_is_shortened_for_good_only_with_several_quick_threads(
    switch_interval, threads, heavy, shortened
):
    sys.setswitchinterval(0.005)
    share_the_gil(threads, heavy)
    expected = SWITCH_INTERVAL_S if shortened else 0.005
    assert sys.getswitchinterval() == pytest.approx(expected)


def test_every_heavy_endpoint_is_a_route_of_the_app(app):
    """A renamed view must not drop out of the heavy pool unnoticed (issue 15 renamed views to
    their operationIds, and the availability route ran in the quick pool until this test)."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert HEAVY <= endpoints, HEAVY - endpoints


class _Channel:
    """What a pool takes from waitress: a request line, and service() run on a worker thread."""

    def __init__(self, path: str) -> None:
        self.requests = [SimpleNamespace(command="GET", path=path)]
        self.started, self.finish, self.done = (
            threading.Event(),
            threading.Event(),
            threading.Event(),
        )
        self.interval_while_serving: float | None = None

    def service(self) -> None:
        self.interval_while_serving = sys.getswitchinterval()
        self.started.set()
        self.finish.wait(5)
        self.done.set()


@pytest.mark.parametrize(("threads", "after"), [(1, 0.005), (4, SWITCH_INTERVAL_S)])
def test_a_heavy_request_shortens_the_switch_interval_while_it_runs(
    app, switch_interval, threads, after
):
    sys.setswitchinterval(0.005)
    share_the_gil(threads, 1)
    pools = Pools(app, threads, 1)
    try:
        heavy = _Channel("/modules/booking/resources/res_1/availability")
        pools.add_task(heavy)
        assert heavy.started.wait(5)
        assert heavy.interval_while_serving == pytest.approx(SWITCH_INTERVAL_S)
        quick = _Channel("/modules/booking/bookings")
        pools.add_task(quick)
        assert quick.started.wait(5)  # answered while the heavy one still runs
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S)
        quick.finish.set()
        heavy.finish.set()
        assert heavy.done.wait(5) and quick.done.wait(5)
        deadline = threading.Event()
        for _ in range(50):  # the pool restores the interval just after service() returns
            if sys.getswitchinterval() == pytest.approx(after):
                break
            deadline.wait(0.02)
        assert sys.getswitchinterval() == pytest.approx(after)
    finally:
        pools.shutdown()
