"""API keys, scopes, per-key rate limits and token balances, applied in the spec's order.

Check order (API.md §1): 401 unauthorized → 403 forbidden → 429 rate_limited →
402 insufficient_tokens; body and query validation come after, in app.web.api.endpoint.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.store import Connection
from app.web.errors import Forbidden, InsufficientTokens, RateLimited, Unauthorized

SCOPES = ("booking:read", "booking:write", "booking:admin", "sync")
# Each scope also grants the ones listed for it: admin ⊃ write ⊃ read. `sync` stands alone.
IMPLIED = {
    "booking:admin": {"booking:admin", "booking:write", "booking:read"},
    "booking:write": {"booking:write", "booking:read"},
    "booking:read": {"booking:read"},
    "sync": {"sync"},
}
KEY_PREFIX = "sk_"


class KeyRequestError(ValueError):
    """A key could not be made from what was asked (bad scope, rate limit or token count)."""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]
    rate_limit: str
    tokens_remaining: int | None
    node_id: str | None

    def grants(self, scope: str) -> bool:
        return any(scope in IMPLIED[held] for held in self.scopes if held in IMPLIED)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ApiKey:
        """The key as a stored `api_keys` row describes it (read by the API and the pages)."""
        return cls(
            id=record["id"],
            name=record["name"],
            scopes=frozenset(record["scopes"]),
            rate_limit=record["rate_limit"],
            tokens_remaining=record["tokens_remaining"],
            node_id=record["node_id"],
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str) -> list[str]:
    scopes = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise KeyRequestError(
            f"Unknown scope {', '.join(unknown) or '(none given)'}; use one or more of "
            f"{', '.join(SCOPES)}, separated by commas."
        )
    return list(dict.fromkeys(scopes))


def parse_rate_limit(text: str) -> RateLimitItem:
    try:
        return parse(text)
    except ValueError:
        raise KeyRequestError(
            f"Cannot read the rate limit {text!r}; write it like 600/minute or 10/second."
        ) from None


def create_key(
    db: Connection,
    *,
    name: str,
    scopes: list[str],
    rate_limit: str,
    tokens: int | None = None,
) -> tuple[dict[str, Any], str]:
    """Make a key; return its stored record and the secret key text (never stored)."""
    for scope in scopes:
        if scope not in SCOPES:
            raise KeyRequestError(f"Unknown scope {scope!r}.")
    parse_rate_limit(rate_limit)
    if tokens is not None and tokens < 0:
        raise KeyRequestError("--tokens must be zero or more.")
    if not name.strip():
        raise KeyRequestError("Give the key a name with --name.")
    key_id = new_id("key")
    secret = secrets.token_urlsafe(32)
    record = {
        "id": key_id,
        "name": name,
        "secret_hash": _hash(secret),
        "scopes": scopes,
        "rate_limit": rate_limit,
        "tokens_remaining": tokens,
        "created_at": wall_ms(),
    }
    with store.transaction(db):
        store.insert_api_key(db, record)
    # The key carries its id so lookup is by id, and the secret is compared in constant time.
    return record, f"{KEY_PREFIX}{key_id.removeprefix('key_')}_{secret}"


def revoke_key(db: Connection, key_id: str) -> bool:
    with store.transaction(db):
        return store.revoke_api_key(db, key_id, wall_ms())


def authenticate(db: Connection, header: str | None) -> ApiKey:
    """The live key named by an `Authorization: Bearer` header, or 401."""
    if not header or not header.startswith("Bearer "):
        raise Unauthorized()
    token = header.removeprefix("Bearer ").strip()
    key_part, _, secret = token.removeprefix(KEY_PREFIX).partition("_")
    if not token.startswith(KEY_PREFIX) or not key_part or not secret:
        raise Unauthorized()
    record = store.get_api_key(db, f"key_{key_part}")
    # compare_digest runs even for unknown ids, so timing does not reveal which ids exist.
    stored = record["secret_hash"] if record else _hash(secrets.token_hex(8))
    if not hmac.compare_digest(stored, _hash(secret)) or record is None:
        raise Unauthorized()
    if record["revoked_at"] is not None:
        raise Unauthorized("This API key has been revoked.")
    return ApiKey.from_record(record)


class _SweepInline(MemoryStorage):
    """limits' in-memory storage, sweeping expired entries on the calling thread once a second.

    MemoryStorage sweeps from a threading.Timer that it starts again 10 ms after the last one
    ended: under load that is about a hundred thread starts a second, each waiting for the GIL
    the request threads hold (measured: ~100 µs a request in process, more under waitress).
    The moving window does not need the sweep to be right, since acquire_entry looks at the
    entry `limit` places back; the sweep only keeps the lists short. The hook overridden here
    is private to limits, hence the upper bound on limits in pyproject.toml.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._next_sweep = 0.0
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep and self._sweeping.acquire(blocking=False):
            try:
                self._next_sweep = now + self.SWEEP_SECONDS
                self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
            finally:
                self._sweeping.release()


# A key's limit text is parsed once, not on every request.
_limit_item = functools.lru_cache(maxsize=1024)(parse)


class RateLimiter:
    """Per-key moving-window limits, kept in memory (they reset when the server restarts)."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(_SweepInline())

    def hit(self, key: ApiKey, headers: dict[str, str]) -> None:
        """Count one request and set the X-RateLimit headers; raise 429 when over the limit."""
        item = _limit_item(key.rate_limit)
        allowed = self._limiter.hit(item, key.id)
        stats = self._limiter.get_window_stats(item, key.id)
        headers["X-RateLimit-Limit"] = str(item.amount)
        headers["X-RateLimit-Remaining"] = str(max(stats.remaining, 0))
        if not allowed:
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise RateLimited(headers={"Retry-After": str(retry_after)})


def authorize(scope: str) -> ApiKey:
    """Run the spec's checks for `scope` on the current API request: 401, then `admit`."""
    db = store.connection(current_app.config["DB"])
    return admit(authenticate(db, request.headers.get("Authorization")), scope)


def admit(key: ApiKey, scope: str) -> ApiKey:
    """The checks after authentication, in the spec's order: 403 → 429 → 402.

    The one gate for both doors: the API calls it with the bearer key, the pages with the
    signed-in session's key, so a page is no way around a key's scope, rate limit or tokens.
    Headers collected on `g.response_headers` go onto the response, error or not.
    """
    headers: dict[str, str] = {}
    g.response_headers = headers
    if key.tokens_remaining is not None:
        headers["X-Tokens-Remaining"] = str(key.tokens_remaining)
    if not key.grants(scope):
        raise Forbidden(f"This API key lacks the {scope!r} scope.")
    limiter: RateLimiter = current_app.extensions["booking.rate_limiter"]
    limiter.hit(key, headers)
    if key.tokens_remaining is not None:
        left = store.spend_token(store.connection(current_app.config["DB"]), key.id)
        if left is None:
            raise InsufficientTokens()
        headers["X-Tokens-Remaining"] = str(left)
    g.api_key = key
    return key
