"""/healthz and /openapi.json: public, no key needed."""

from importlib.metadata import version

from flask import Blueprint, Response, current_app, jsonify

from app import store
from app.web import openapi
from app.web.api import db, endpoint, ok
from app.web.errors import storage_error
from app.web.schemas import Health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@endpoint(scope=None, response=Health)
def get_health() -> Response:
    """Liveness: version, node id, and whether the database answers and takes writes.

    503 storage_full or storage_unavailable, with `"db": "not_writable"`, while the last write
    failed for want of space or write access; each call checks again.
    """
    database = db()
    database.execute("SELECT 1").fetchone()
    problem = store.write_problem(database)
    if problem is not None:
        raise storage_error(problem, db="not_writable")
    data = {"version": version("booking-service"), "node_id": store.node_id(database), "db": "ok"}
    return ok(data)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document, generated from the models that validate requests."""
    document = current_app.extensions.get("booking.openapi")
    if document is None:
        document = current_app.extensions["booking.openapi"] = openapi.build(current_app)
    return jsonify(document)
