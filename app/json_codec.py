"""JSON text for stored records and for sync: one canonical form per value, and a fast reader.

Sync moves every record through JSON several times (change payloads, JSON columns, field
clocks, request bodies), so this is orjson, with json taking over wherever orjson would give
a different value than json does.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# What orjson cannot write (integers beyond 64 bits, which JSON allows; non-str keys), json
# writes in the same layout. Which one writes a value depends on the value alone, so every
# node still writes the same text for the same value.
_json_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode


def dumps(value: Any) -> str:
    """The canonical text of `value`: sorted keys, no spaces, UTF-8 rather than \\u escapes.

    A record written on one node and its copy merged on another are byte-identical, whatever
    order the keys travelled in. NaN and Infinity are written as null (they are not JSON;
    the API refuses them).
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        return _json_dumps(value)


# orjson reads an integer beyond 64 bits as a float, silently dropping digits. Such an integer
# has at least 19 digits in a row (-2**63 - 1 has 19), and nothing this service writes does
# (times have 13 digits, HLCs 16), so text with such a run is left to json.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_STR_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
_LONG_DIGIT_RUN = "0" * 19


def loads(text: bytes | str) -> Any:
    """json.loads(text), with the same result and errors, mostly at orjson's speed.

    json also reads what orjson refuses (NaN, Infinity, lone surrogates, UTF-16 bytes) and
    raises the familiar ValueError on what neither reads.
    """
    if isinstance(text, bytes):
        long_number = _LONG_DIGIT_RUN.encode() in text.translate(_DIGITS_TO_ZERO)
    else:
        long_number = _LONG_DIGIT_RUN in text.translate(_STR_DIGITS_TO_ZERO)
    if not long_number:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
