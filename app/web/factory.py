"""The Flask application factory. It starts nothing: no threads, sockets or schedulers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Request, Response
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from app import store
from app.core import json_codec
from app.ops import paths, upgrade
from app.settings import setting


class _JSONProvider(DefaultJSONProvider):
    """Flask's JSON, read and written through json_codec: json's values at orjson's speed.

    Request bodies give what json.loads gives; responses are the same JSON, with UTF-8 where
    json wrote \\u escapes. Debug mode keeps Flask's indented output.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return super().loads(s, **kwargs) if kwargs else json_codec.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self._app.debug:
            return super().response(*args, **kwargs)
        body = json_codec.dumps_response(self._prepare_response_obj(args, kwargs), self.default)
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """An app serving the database at config["DB"] (migrated here if needed)."""
    app = Flask(
        "app", template_folder="web/templates", static_folder="web/static"
    )  # the logger is "app"
    app.json = _JSONProvider(app)
    app.config.update(
        DB=paths.database(),
        MAX_CONTENT_LENGTH=setting("MAX_BODY_BYTES"),
        REQUEST_DEADLINE_MS=setting("REQUEST_DEADLINE_MS"),
        HUB_URL=setting("HUB_URL"),
        HUB_KEY=setting("HUB_KEY"),
        PUBLIC_URL=setting("PUBLIC_URL"),
        # The browser UI's session cookie: signed, out of scripts' reach, not sent cross-site.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(config or {})
    # Where the status page looks for backups (the same rule as `booking serve`'s job).
    app.config.setdefault("BACKUP_DIR", str(paths.backup_dir(app.config["DB"])))
    app.config.setdefault("DISK_WARN_MB", setting("DISK_WARN_MB"))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.session_interface = _SessionOnlyWhenSent()

    _prepare_database(app)

    from app.web import compression, request_log, ui
    from app.web.api import add_limit_headers, no_store
    from app.web.auth import RateLimiter
    from app.web.errors import register_error_handlers
    from app.web.routes import (
        blockers,
        bookings,
        calendar,
        customers,
        docs,
        health,
        hub,
        outbound,
        resources,
        shop_services,
        v1_customers,
    )
    from app.web.routes import counter as counter_routes

    app.url_map.converters["customer_id"] = customers.CustomerIdConverter
    app.extensions["booking.rate_limiter"] = RateLimiter()
    blueprints = (
        health.bp,
        docs.bp,
        counter_routes.bp,
        customers.bp,
        resources.bp,
        bookings.bp,
        blockers.bp,
        v1_customers.bp,
        hub.bp,
        shop_services.bp,
        ui.bp,
        outbound.bp,
        calendar.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.after_request(add_limit_headers)
    app.after_request(no_store)
    compression.init_app(app)
    request_log.install(app)
    _add_deadline(app)
    register_error_handlers(app)
    logging.getLogger("app").setLevel(logging.INFO)
    return app


def _add_deadline(app: Flask) -> None:
    """Every request but the sync hub's gets REQUEST_DEADLINE_MS (app/core/deadline.py says why)."""
    from flask import request

    from app.core import deadline

    @app.before_request
    def start_deadline() -> None:
        if request.blueprint != "sync":
            deadline.start(app.config["REQUEST_DEADLINE_MS"])

    @app.teardown_request
    def clear_deadline(_error: BaseException | None) -> None:
        deadline.clear()


def _prepare_database(app: Flask) -> None:
    upgrade.open_or_raise(app.config["DB"])  # refuses a database a newer version migrated
    db = store.open_db(app.config["DB"])
    try:
        app.extensions["booking.node_id"] = store.node_id(db)
        app.extensions["booking.cursor_secret"] = store.meta(db, "cursor_secret")
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = store.meta(db, "session_secret")
    finally:
        db.close()


class _SessionOnlyWhenSent(SecureCookieSessionInterface):
    """Flask's signed-cookie session, minus the signer it builds for requests without a cookie.

    Only the browser UI has a session; API clients never send its cookie, and opening an empty
    session the usual way cost each API request about 50 µs.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
