"""Hybrid logical clock (HLC): the only source of event order.

A stamp is physical milliseconds, a logical counter and the node id, encoded as a fixed-width
string that sorts in HLC order: `0001763712000123-00004-<node_id>`. The functions here are
pure: the caller passes the last stamp and the wall clock, and stores the result in the same
transaction as the change it stamps, so the clock survives restarts and never goes backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.vocabulary import MINUTE_MS

MAX_COUNTER = 99_999
# A remote stamp further ahead of our wall clock than this is kept but not adopted (SYNC.md §1).
MAX_FUTURE_DRIFT_MS = 5 * MINUTE_MS


@dataclass(frozen=True, order=True)
class Hlc:
    millis: int
    counter: int
    node_id: str

    def encode(self) -> str:
        return f"{self.millis:016d}-{self.counter:05d}-{self.node_id}"

    @classmethod
    def decode(cls, stamp: str) -> Hlc:
        millis, counter, node_id = stamp.split("-", 2)
        return cls(int(millis), int(counter), node_id)


def _advance(millis: int, counter: int, node_id: str) -> Hlc:
    if counter > MAX_COUNTER:  # more than 100k events in one millisecond: borrow the next ms
        return Hlc(millis + 1, 0, node_id)
    return Hlc(millis, counter, node_id)


def tick(last: str | None, node_id: str, wall_ms: int) -> str:
    """The stamp for a new local event: after `last`, and at least the wall clock."""
    if last is None:
        return Hlc(wall_ms, 0, node_id).encode()
    previous = Hlc.decode(last)
    if wall_ms > previous.millis:
        return Hlc(wall_ms, 0, node_id).encode()
    return _advance(previous.millis, previous.counter + 1, node_id).encode()


def is_suspect(remote: str, wall_ms: int) -> bool:
    """True when a remote stamp is more than five minutes ahead of our wall clock."""
    # Hlc.decode's split without building an Hlc: this runs for every change merged.
    millis, _counter, _node_id = remote.split("-", 2)
    return int(millis) > wall_ms + MAX_FUTURE_DRIFT_MS


def receive(last: str | None, remote: str, node_id: str, wall_ms: int) -> str | None:
    """The local clock after seeing `remote`, so later local stamps sort after it.

    Returns the stamp to store as our new "last", or None when the local clock does not move
    (the remote stamp is already behind it, or it is suspect and must not drag us forward).
    """
    if is_suspect(remote, wall_ms):
        return None
    seen = Hlc.decode(remote)
    current = Hlc.decode(last) if last is not None else Hlc(0, 0, node_id)
    if (seen.millis, seen.counter) <= (current.millis, current.counter):
        return None
    return Hlc(seen.millis, seen.counter, node_id).encode()
