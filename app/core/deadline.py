"""A deadline per request, so that no single request can hold the server.

Every API and UI request gets one (the sync hub's routes do not: a push stopped half-way would
be retried forever, and their batches are bounded already). The loops whose length depends on
the data or the query (blocker expansion, availability slots, a new blocker's covered
bookings, windowed blocker lists) call `check()`, which raises `DeadlinePassed` once the
deadline has passed; app/web/errors.py answers it as 503 `request_too_expensive` with `Retry-After`.
The client then gets a clear answer instead of a timeout, and the worker thread is free again.
Outside a request (the CLI, the sync worker, tests calling the domain directly) there is no
deadline.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from app.core.vocabulary import SECOND_MS


# A ContextVar, not flask.g: the domain code that checks it knows nothing of Flask, and each
# waitress worker thread has its own context.
class DeadlinePassed(Exception):
    """The request used up its time; the message says what to ask for instead."""

    retry_after_s = 5  # long enough for the busy moment that slowed it to pass

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


_deadline: ContextVar[tuple[float, int] | None] = ContextVar("request_deadline", default=None)


def start(budget_ms: int) -> None:
    """Give the current request `budget_ms` milliseconds of wall-clock time from now."""
    _deadline.set((time.monotonic() + budget_ms / SECOND_MS, budget_ms))


def clear() -> None:
    _deadline.set(None)


def check() -> None:
    """Raise DeadlinePassed if the current request is past its deadline."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline[0]:
        raise DeadlinePassed(
            f"This request needed more than {deadline[1] / SECOND_MS:g} s of work and was stopped; "
            "ask for a shorter window (from/to), or retry when the server is less busy."
        )
