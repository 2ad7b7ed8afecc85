"""gzip (or brotli, zstd) for large responses, by flask-compress, as Accept-Encoding allows.

JSON, HTML, CSS and JavaScript over COMPRESS_MIN_SIZE bytes are compressed.

The sync hub's routes are left alone: push and pull are CPU-bound on both ends (README §
Performance), pull pages are already spliced JSON, and the hub serves many laptops at once.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_compress import Compress

from app.web.headers import header

UNCOMPRESSED_BLUEPRINTS = frozenset({"sync"})
# Below about a kilobyte the bytes saved do not pay for the work; a booking's JSON is smaller.
MIN_SIZE = 1024


class _Compress(Compress):
    def after_request(self, response: Response) -> Response:  # type: ignore[override]
        if request.blueprint in UNCOMPRESSED_BLUEPRINTS:
            return response
        # flask-compress parses Accept-Encoding and the mimetype before it looks at the size; most
        # answers (a booking, an error) are small, so the size is looked at first. Vary is still
        # set, as flask-compress does: the same URL may answer large, compressed, another time.
        size = response.content_length
        if size is not None and size < current_app.config["COMPRESS_MIN_SIZE"]:
            vary = header(response, "Vary")
            if not vary:  # what an API answer has; HeaderSet parsing costs more than the rest
                response.headers["Vary"] = "Accept-Encoding"
            elif "accept-encoding" not in vary.lower():
                response.headers["Vary"] = f"{vary}, Accept-Encoding"
            return response
        return super().after_request(response)


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIN_SIZE", MIN_SIZE)
    app.config.setdefault(
        "COMPRESS_MIMETYPES",
        ["application/json", "text/html", "text/css", "text/javascript", "application/javascript"],
    )
    _Compress(app)
