"""Record ids: a type prefix plus a ULID, made offline by any node, sorting by time.

python-ulid's default generator is monotonic within a millisecond, so ids made later in this
process sort after earlier ones: keyset pagination sees rows in creation order.

Customers are the exception in how the bits are made: a customer's id carries UUIDv7 bits
(uuid-utils, also monotonic within the process), written as a ULID, so that the /v1 API can show
the same 128 bits as a valid RFC 9562 UUID (app/core/customer_ids.py).
"""

from __future__ import annotations

import uuid_utils
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
    if prefix == "cus":
        return f"cus_{ULID.from_bytes(uuid_utils.uuid7().bytes)}"
    return f"{prefix}_{ULID()}"


def new_node_id() -> str:
    return str(ULID())
