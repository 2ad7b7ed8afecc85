"""Idempotency-Key on POST (API.md §1): a retry with the same body replays the first response.

Records are per API key, kept 24 hours, and never synced. Requests carrying the same key are
serialised in-process, so two racing retries cannot both do the work.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable

from flask import Response, current_app, request

from app import store
from app.core.times import wall_ms
from app.core.vocabulary import DAY_MS
from app.web.errors import (
    ApiError,
    IdempotencyMismatch,
    ValidationFailed,
    error_response,
    from_domain,
)

HEADER = "Idempotency-Key"
KEEP_MS = DAY_MS
_LOCKS = [threading.Lock() for _ in range(64)]


def _fingerprint() -> str:
    raw = request.get_data()
    try:  # the same JSON sent with other spacing or key order is the same body
        raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    return hashlib.sha256(request.method.encode() + request.path.encode() + b"\0" + raw).hexdigest()


def run(api_key_id: str, view: Callable[[], Response]) -> Response:
    """Call `view` once per Idempotency-Key; a repeat replays, a different body is 422."""
    key = request.headers.get(HEADER)
    if key is None:
        return view()
    if not 1 <= len(key) <= 255:
        raise ValidationFailed(
            details=[{"field": HEADER, "message": "Must be 1 to 255 characters."}]
        )
    db = store.connection(current_app.config["DB"])
    fingerprint = _fingerprint()
    with _LOCKS[hash((api_key_id, key)) % len(_LOCKS)]:
        now = wall_ms()
        earlier = store.get_idempotent(db, api_key_id, key, since=now - KEEP_MS)
        if earlier is not None:
            if earlier["fingerprint"] != fingerprint:
                raise IdempotencyMismatch(
                    "This Idempotency-Key was used with a different request; use a new key."
                )
            replay = current_app.response_class(
                earlier["body"], status=earlier["status"], mimetype="application/json"
            )
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response = _call(view)
        if response.status_code < 500:
            store.save_idempotent(
                db,
                {
                    "api_key_id": api_key_id,
                    "key": key,
                    "fingerprint": fingerprint,
                    "status": response.status_code,
                    "body": response.get_data(as_text=True),
                    "created_at": now,
                },
                expired_before=now - KEEP_MS,
            )
        return response


def _call(view: Callable[[], Response]) -> Response:
    """Run the view, turning an API error or a domain refusal into its response so that it is
    remembered too."""
    try:
        return view()
    except ApiError as error:
        return error_response(error)
    except Exception as error:
        answer = from_domain(error)
        if answer is None:
            raise  # a bug or a storage outage: the error handler answers, nothing is remembered
        return error_response(answer)
