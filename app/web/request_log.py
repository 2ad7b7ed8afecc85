"""One log line per request, with nothing in it that names a customer or opens a door.

The line has the method, the route's pattern (`/modules/booking/customers/<customer_id>`, not
the path: a path or query string can carry a name, an e-mail address or a search), the status,
the time taken and the key's id (an id, not the secret). Headers, cookies and bodies are never
logged. `booking serve` sends the logger to the rotating log file (app/ops/logs.py).
"""

from __future__ import annotations

import logging
import re
import time

from flask import Flask, Response, g, request

log = logging.getLogger("booking.requests")
# `<customer_id:customer_id>` is logged as `<customer_id>`: a converter is how the route
# matches, not what it names, and the log reads like the API's paths.
_CONVERTER = re.compile(r"<[^:>]+:([^>]+)>")


def install(app: Flask) -> None:
    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        if log.isEnabledFor(logging.INFO):
            started = g.get("request_started", time.perf_counter())
            rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
            rule = _CONVERTER.sub(r"<\1>", rule)
            key = g.get("api_key")
            log.info(
                "%s %s %d %.1f ms%s",
                request.method,
                rule,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                f" {key.id}" if key is not None else "",
            )
        return response
