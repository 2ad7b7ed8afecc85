"""One customer, one id on both APIs: the booking API's `cus_<ULID>` and the /v1 API's UUID.

Both are the same 128 bits wherever that can be so, and every mapping here is a pure function
of the stored id: every replica computes the same /v1 id for a customer, nothing is stored for
it, and no stored id is ever rewritten (other laptops hold them).

- New customers (ids.new_id("cus")) get UUIDv7 bits, written as a ULID: both are a 48-bit
  millisecond time followed by random bits, so the `cus_` id still sorts by time, and the /v1
  id is those bits read as a UUID, a valid RFC 9562 version 7 UUID.
- Customers made before (plain ULIDs, from this node or any other) have random bits where a
  UUID keeps its version and variant, so their bits are seldom a valid UUID. Their /v1 id is a
  version 8 UUID (RFC 9562 §5.8) that holds the ULID's low 122 bits; the top 6 are the top of
  its millisecond time, zero until the year 2109, so nothing is lost and it maps back exactly.
  A legacy ULID whose bits happen to be a valid UUIDv7 keeps them, as a new one does.
- The UUID such a customer showed before this change (its raw bits) still names it: when a
  UUID could be either, candidates() lists both, and the caller takes the one that exists.
"""

from __future__ import annotations

import uuid

from ulid import ULID

PREFIX = "cus_"
_VERSION_SHIFT, _VARIANT_SHIFT = 76, 62
_PAYLOAD_BITS = 122
_LOW_62 = (1 << 62) - 1
# A name-based UUID for an id this software never makes (not a ULID): it still has a /v1 id.
_FOREIGN_IDS = uuid.UUID("6d1b0f0e-7a2c-4f3e-9b1d-5c8e2a4f6b10")


def _version(value: int) -> int:
    return (value >> _VERSION_SHIFT) & 0xF


def _is_rfc_variant(value: int) -> bool:
    return (value >> _VARIANT_SHIFT) & 0b11 == 0b10


def _pack_v8(value: int) -> int:
    """The UUIDv8 holding a ULID's low 122 bits, in order (so it sorts as the ULID does)."""
    high = value >> 74  # 48 bits
    middle = (value >> 62) & 0xFFF  # 12 bits
    return (high << 80) | (8 << _VERSION_SHIFT) | (middle << 64) | (0b10 << 62) | (value & _LOW_62)


def _unpack_v8(value: int) -> int:
    high = value >> 80
    middle = (value >> 64) & 0xFFF
    return (high << 74) | (middle << 62) | (value & _LOW_62)


def to_uuid(customer_id: str) -> str:
    """The UUID the /v1 API shows for the customer `customer_id` (`cus_<ULID>`)."""
    try:
        value = ULID.from_str(customer_id.removeprefix(PREFIX)).to_uuid().int
    except ValueError:
        return str(uuid.uuid5(_FOREIGN_IDS, customer_id))
    if _version(value) == 7 and _is_rfc_variant(value):
        return str(uuid.UUID(int=value))
    if value >> _PAYLOAD_BITS == 0:
        return str(uuid.UUID(int=_pack_v8(value)))
    return str(uuid.UUID(int=value))  # a ULID from past 2109: its bits as they are


def _cus(value: int) -> str:
    return PREFIX + str(ULID.from_int(value))


def candidates(text: str) -> list[str]:
    """The `cus_` ids a UUID in 8-4-4-4-12 form may name, the likeliest first.

    A version 8 UUID is the packed form of an older customer's id, or, less likely, the raw
    bits that customer showed before; any other UUID is raw bits.
    """
    value = uuid.UUID(text).int
    if _version(value) == 8 and _is_rfc_variant(value):
        return [_cus(_unpack_v8(value)), _cus(value)]
    return [_cus(value)]
