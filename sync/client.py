"""HubClient: the node's HTTP calls to the hub, each with a timeout and a typed failure.

5xx, 429, timeouts and refused connections are HubUnavailable (back off and retry);
409 sequence_gap is SequenceGapError (resend from `expected`); any other 4xx is HubRejected
(a configuration problem a person must fix: wrong key, wrong URL, protocol mismatch).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests

from app.core import json_codec
from sync.protocol import SYNC_PROTOCOL

TIMEOUT = (5.0, 30.0)  # seconds to connect, seconds to read
T = TypeVar("T")


class HubUnavailable(Exception):
    """The hub cannot be reached or is overloaded; try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class HubRejected(Exception):
    """The hub refused the request for a reason retrying will not fix."""


class SequenceGapError(Exception):
    def __init__(self, expected: int, former_nodes: list[str] | None = None) -> None:
        super().__init__(f"The hub expects change {expected} next.")
        self.expected = expected
        self.former_nodes = former_nodes or []


class ChangeIdReusedError(Exception):
    """The hub holds one of our change ids with other content: this database is a copy."""

    def __init__(self, origin_seq: int) -> None:
        super().__init__(f"The hub holds our change {origin_seq} with other content.")
        self.origin_seq = origin_seq


class HubClient:
    """Push and pull against one hub. One requests.Session per thread."""

    def __init__(self, base_url: str, key: str, *, session: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}"}
        self._shared_session = session  # tests pass an in-process transport
        self._local = threading.local()
        self._worker: ThreadPoolExecutor | None = None  # made by the first in_background()
        # The hub's clock minus ours, from the Date header of its last answer (health checks).
        self.clock_offset_ms: int | None = None

    def _session(self) -> Any:
        if self._shared_session is not None:
            return self._shared_session
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def push(self, node_id: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"protocol": SYNC_PROTOCOL, "node_id": node_id, "changes": changes}
        return self._call("POST", "/sync/push", json=body)

    def push_text(
        self, node_id: str, changes: list[str], claim: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """push() with each change already JSON text (changelog.wire_text). `claim` holds the
        node's lineage and lineage token (SYNC.md §3a)."""
        extra = json.dumps(claim, separators=(",", ":"))[1:-1] + "," if claim else ""
        body = (
            f'{{"protocol":{SYNC_PROTOCOL},"node_id":{json.dumps(node_id)},{extra}'
            f'"changes":[{",".join(changes)}]}}'
        )
        headers = {**self.headers, "Content-Type": "application/json"}
        return self._call("POST", "/sync/push", data=body.encode(), headers=headers)

    def pull(self, cursor: str | None, limit: int, node_id: str) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "node_id": node_id, "skip_own": "true"}
        if cursor:
            params["cursor"] = cursor
        return self._call("GET", "/sync/pull", params=params)

    def in_background(self, call: Callable[..., T], *args: Any) -> Future[T]:
        """Start one of this client's calls (push_text, pull) on the client's own thread, so
        the caller works while the hub does. Such calls run one at a time, in the order they
        were started; result() returns or raises what the call would."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="hub-client")
        return self._worker.submit(call, *args)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            kwargs.setdefault("headers", self.headers)
            sent = time.time()
            response = self._session().request(
                method, f"{self.base_url}{path}", timeout=TIMEOUT, **kwargs
            )
            self._note_clock(response, sent, time.time())
        except requests.Timeout:
            raise HubUnavailable(f"The hub at {self.base_url} did not answer in time.") from None
        except requests.ConnectionError:
            raise HubUnavailable(
                f"Cannot reach the hub at {self.base_url} (no network, or it is not running)."
            ) from None
        except requests.RequestException as error:
            raise HubUnavailable(f"Cannot talk to the hub at {self.base_url}: {error}") from None
        status = response.status_code
        try:
            body = json_codec.loads(response.content)
        except ValueError:
            body = {}
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if status >= 500 or status == 429:
            retry = response.headers.get("Retry-After")
            raise HubUnavailable(
                f"The hub answered {status}.", float(retry) if retry and retry.isdigit() else None
            )
        if status == 409 and error.get("code") == "sequence_gap":
            raise SequenceGapError(int(error["expected"]), error.get("former_nodes"))
        if status == 409 and error.get("code") == "change_id_reused":
            raise ChangeIdReusedError(int(error["origin_seq"]))
        if status >= 400:
            code = error.get("code", "error")
            raise HubRejected(
                f"The hub refused {method} {path}: {status} {code}: "
                f"{error.get('message', '')}".strip()
            )
        return body["data"]

    def _note_clock(self, response: Any, sent: float, received: float) -> None:
        """The hub's clock minus ours, taking its Date header (whole seconds, so +0.5 s on
        average) as read halfway through the round trip."""
        date = getattr(response, "headers", {}).get("Date")
        try:
            hub = parsedate_to_datetime(date).timestamp() + 0.5 if date else None
        except (TypeError, ValueError):
            hub = None
        if hub is not None:
            self.clock_offset_ms = int((hub - (sent + received) / 2) * 1000)
