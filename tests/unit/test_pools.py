"""serve's worker pools: a waiting thread gets the GIL sooner once there is more than one."""

from __future__ import annotations

import sys

import pytest

from app.web.pools import HEAVY, SWITCH_INTERVAL_S, share_the_gil


@pytest.fixture
def switch_interval():
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize(
    ("threads", "heavy", "shortened"), [(1, 0, False), (1, 1, True), (4, 0, True)]
)
def test_the_switch_interval_is_shortened_only_beside_another_thread(
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
