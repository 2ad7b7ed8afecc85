"""serve's worker pools: a waiting thread gets the GIL sooner once there is more than one."""

from __future__ import annotations

import sys

import pytest

from app.web.pools import SWITCH_INTERVAL_S, share_the_gil


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
