"""JSON text for stored records and for sync: one canonical form per value, and a fast reader.

Sync moves every record through JSON several times (change payloads, JSON columns, field
clocks, request and response bodies). Writing is orjson's, reading pydantic-core's; json takes
over wherever they would give other values than json does.
"""

from __future__ import annotations

import json
import re
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


# --- request bodies ------------------------------------------------------------------------------

# Deep enough for any record (metadata nests at most 32 levels, and a sync push wraps a record
# in four more); shallow enough that no reader or writer of ours gets near Python's recursion
# limit. Python's own bound on integer text (4,300 digits) is kept: pydantic-core and json both
# refuse longer integers, and converting them costs time quadratic in their length.
MAX_DEPTH = 64
MAX_INTEGER_DIGITS = 4300


class BodyRefused(ValueError):
    """A request body that is not JSON we can keep; the message says what to change."""


def read_body(data: bytes) -> Any:
    """A request body as JSON values, or BodyRefused naming the first problem found."""
    try:
        value = pydantic_core.from_json(data)
        utf8 = True
    except ValueError as error:
        value = _read_with_json(data, str(error))
        utf8 = False  # UTF-16, say: only the value tells its nesting
    # A value cannot be nested deeper than the number of brackets in its text, so most bodies
    # skip the count.
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH:
        deepest = _text_depth(data) if utf8 and b"\\" not in data else depth(value)
        if deepest > MAX_DEPTH:
            raise _too_deep()
    return value


# Every byte but JSON's brackets and quotes, for bytes.translate to delete.
_NOT_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"')
_INNERMOST_PAIRS = re.compile(rb"\[\]|\{\}")


def _text_depth(data: bytes) -> int:
    """depth() of the value the JSON text `data` holds, up to MAX_DEPTH + 1, at C speed; for
    valid UTF-8 text without a backslash.

    In UTF-8 every byte of a multi-byte character is above 127, so the ASCII brackets and
    quotes are JSON's own, and without a backslash no string holds a quote. So after deleting
    every byte but brackets and quotes, a bracket is in a string when an odd number of quotes
    come before it; deleting two adjacent quotes changes that for none, and most strings hold
    no bracket and go that way. What is left is the brackets of the arrays and objects, and
    each pass that removes the innermost pairs removes one level: the passes until nothing is
    left are the depth. A sync push of 500 changes is measured in a fifth of the time depth()
    takes to walk its value.
    """
    brackets = data.translate(None, _NOT_BRACKET_OR_QUOTE).replace(b'""', b"")
    if b'"' in brackets:
        brackets = b"".join(brackets.split(b'"')[::2])  # the parts between strings
    levels = 0
    while brackets and levels <= MAX_DEPTH:
        brackets = _INNERMOST_PAIRS.sub(b"", brackets)
        levels += 1
    return levels


def _read_with_json(data: bytes, reason: str) -> Any:
    """What pydantic-core refused: ours to explain, or json's to read (a BOM, UTF-16, a lone
    surrogate escape, which is then refused here)."""
    if reason.startswith("recursion limit exceeded"):
        raise _too_deep()
    if reason.startswith("number out of range"):
        raise _too_long_integer()
    try:
        value = json.loads(data)
    except RecursionError:
        raise _too_deep() from None
    except UnicodeDecodeError:
        raise BodyRefused("The body is not UTF-8 text; send JSON encoded as UTF-8.") from None
    except json.JSONDecodeError as error:
        if not data.strip():
            raise BodyRefused("The body is empty; send a JSON object.") from None
        raise BodyRefused(
            f"The body is not valid JSON: {error.msg[0].lower()}{error.msg[1:]} at line "
            f"{error.lineno}, column {error.colno}."
        ) from None
    except ValueError:  # json's only other complaint: an integer past Python's digit limit
        raise _too_long_integer() from None
    if has_lone_surrogate(value):
        raise BodyRefused(
            "The body contains a lone UTF-16 surrogate (such as \\ud800), which is not a "
            "character; send each character whole, as UTF-8 text or a surrogate pair."
        )
    return value


def _too_deep() -> BodyRefused:
    return BodyRefused(
        f"The body nests arrays and objects more than {MAX_DEPTH} levels deep; flatten it."
    )


def _too_long_integer() -> BodyRefused:
    return BodyRefused(
        f"A number in the body has more than {MAX_INTEGER_DIGITS:,} digits; send it as a "
        "string if it must be that long."
    )


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return value if isinstance(value, list) else []


def depth(value: Any) -> int:
    """How many arrays and objects deep `value` nests (a scalar is 0), without recursion.

    Level by level, and only containers are kept: keys are strings, and a scalar ends its
    branch. A sync push of 500 changes is walked in well under the time it takes to parse.
    """
    deepest = 0
    level = [value] if isinstance(value, (dict, list)) else []
    while level:
        deepest += 1
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, (dict, list))
        ]
    return deepest


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string in `value`, keys included, holds a code point UTF-8 cannot encode."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:
                return True
        else:
            pending.extend(_children(item))
    return False
