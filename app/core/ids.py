"""Record ids: a type prefix plus a ULID, made offline by any node, sorting by time.

python-ulid's default generator is monotonic within a millisecond, so ids made later in this
process sort after earlier ones: keyset pagination sees rows in creation order.
"""

from __future__ import annotations

from ulid import ULID

PREFIXES = (
    "cus",
    "res",
    "bk",
    "evt",
    "blk",
    "key",
    "node",
    "svc",
    "stf",
    "msg",
    "whk",
    "cal",
)


def new_id(prefix: str) -> str:
    """A fresh id such as `cus_01J...`."""
    assert prefix in PREFIXES, prefix
    return f"{prefix}_{ULID()}"


def new_node_id() -> str:
    return str(ULID())
