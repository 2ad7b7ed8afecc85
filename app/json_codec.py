"""JSON text for stored records and for sync: one canonical form per value, and a fast reader.

Sync moves every record through JSON several times (change payloads, JSON columns, field
clocks, request and response bodies). Writing is orjson's, reading pydantic-core's; json takes
over wherever they would give other values than json does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
import pydantic_core

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


def dumps_response(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """A response body: keys in the order they were built, UTF-8; json where orjson cannot."""
    try:
        # Datetimes go to `default`, as with json: Flask writes them as HTTP dates.
        return orjson.dumps(value, default=default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except orjson.JSONEncodeError:  # rare: an integer beyond 64 bits, a non-str key
        encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=default)
        return encoder.encode(value).encode()


def loads(text: bytes | str) -> Any:
    """json.loads(text): the same result and errors, at about the speed of orjson.

    pydantic-core's parser reads integers of any size exactly (orjson would read those beyond
    64 bits as floats, dropping digits) and NaN and Infinity as json does. What it refuses but
    json reads (lone surrogates, a byte order mark, UTF-16, deep nesting) goes to json.
    """
    try:
        return pydantic_core.from_json(text)
    except ValueError:
        return json.loads(text)
