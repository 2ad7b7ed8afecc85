"""Opaque, tamper-evident keyset cursors.

A cursor is the last row's sort key, signed with the database's own secret (itsdangerous, which
Flask already ships). A forged cursor, or one from another list or another database, fails the
signature and is a 422 naming `cursor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from itsdangerous import BadSignature, URLSafeSerializer

from app.domain.errors import InvalidInput

T = TypeVar("T")


def _serializer(secret: str, kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"cursor:{kind}")


def encode(secret: str, kind: str, key: Any) -> str:
    return _serializer(secret, kind).dumps(key)


def decode(secret: str, kind: str, cursor: str | None) -> Any:
    """The sort key inside `cursor` (None for the first page); 422 if it was not ours."""
    if cursor is None:
        return None
    try:
        return _serializer(secret, kind).loads(cursor)
    except BadSignature:
        raise InvalidInput(
            "The cursor is not valid here; pass back meta.next_cursor unchanged.",
            details=[{"field": "cursor", "message": "Not a cursor this list handed out."}],
        ) from None


def page(
    rows: list[T], limit: int, secret: str, kind: str, key_of: Callable[[T], Any]
) -> tuple[list[T], dict[str, Any]]:
    """Split `limit + 1` fetched rows into the page and its `meta`."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode(secret, kind, key_of(rows[-1])) if has_more else None
    return rows, {"limit": limit, "next_cursor": next_cursor, "has_more": has_more}
