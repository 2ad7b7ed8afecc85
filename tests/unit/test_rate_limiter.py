"""The in-memory rate limiter: exact moving windows, and no thread started per request."""

import threading
import time

import pytest

from app.web.auth import ApiKey, RateLimiter
from app.web.errors import RateLimited


def _key(rate_limit: str, key_id: str = "key_1") -> ApiKey:
    return ApiKey(key_id, "test", frozenset({"booking:read"}), rate_limit, None, None)


def test_hits_start_no_threads(monkeypatch):
    # limits' own MemoryStorage starts a timer thread again 10 ms after the last one ended.
    limiter = RateLimiter()
    started: list[threading.Thread] = []
    monkeypatch.setattr(threading.Thread, "start", started.append)
    for _ in range(50):
        limiter.hit(_key("100000/minute"), {})
        time.sleep(0.002)
    assert started == []


def test_the_window_moves_and_the_sweep_drops_expired_entries():
    limiter = RateLimiter()
    key = _key("2/second")
    headers: dict[str, str] = {}
    limiter.hit(key, headers)
    limiter.hit(key, headers)
    assert headers["X-RateLimit-Remaining"] == "0"
    with pytest.raises(RateLimited):
        limiter.hit(key, {})
    time.sleep(1.05)  # both entries leave the one-second window; the sweep is due too
    limiter.hit(key, headers)
    assert headers["X-RateLimit-Remaining"] == "1"
    entries = limiter._limiter.storage.events.values()
    assert [len(events) for events in entries] == [1]  # the expired entries were swept
