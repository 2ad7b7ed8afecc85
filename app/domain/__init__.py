"""The rules: customers, resources, bookings, blockers and availability, on plain data.

Nothing here imports Flask: services take a Database and plain data (dicts, dataclasses,
instants in ms), return rows, and raise app.domain.errors, which know no HTTP status.
"""

from __future__ import annotations

from collections.abc import Callable

# A caller's condition on a write, run first inside the write's transaction, so that it sees
# what the write will change and nothing can come between: the web layer's If-Match check
# (app/web/conditional.py) raises when the record changed since the client read it.
Precondition = Callable[[], None] | None


def check(precondition: Precondition) -> None:
    """Run a write's precondition, if it has one (inside its transaction)."""
    if precondition is not None:
        precondition()
