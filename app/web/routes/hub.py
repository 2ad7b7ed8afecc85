"""Routes: the hub protocol (/sync/push, /sync/pull) and every node's sync views."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, g

from app.web.api import cursor_secret, db, endpoint, ok
from app.web.errors import InvalidState
from app.web.models.sync import SyncPullQuery, SyncPush
from app.web.schemas import Anomaly, SyncPage, SyncPushResult, SyncRun, SyncStatus
from sync import service, status

bp = Blueprint("sync", __name__, url_prefix="/sync")


@bp.post("/push")
@endpoint(
    scope="sync",
    body=SyncPush,
    response=SyncPushResult,
    errors=("sequence_gap", "protocol_mismatch", "change_id_reused", "sync_key_in_use"),
)
def push_changes(body: SyncPush) -> Response:
    """Apply a node's changes (idempotent; 409 sequence_gap names the expected sequence)."""
    push = service.Push(
        body.node_id,
        body.changes,
        [entry.model_dump() for entry in body.lineage],
        body.lineage_token,
    )
    return ok(service.push(db(), push, key_id=g.api_key.id))


@bp.get("/pull")
@endpoint(scope="sync", query=SyncPullQuery, response=SyncPage)
def pull_changes(query: SyncPullQuery) -> Response:
    """One page of every change the hub holds, after the cursor."""
    bound = g.api_key.node_id
    service.check_pull_key(db(), g.api_key.id, bound, query.node_id)
    page = service.pull(
        db(),
        cursor=query.cursor,
        limit=query.limit,
        node=query.node_id or bound,
        secret=cursor_secret(),
        text=True,
        skip_own=query.skip_own,
    )
    # The changes are JSON already (their payloads as stored): spliced in, not re-encoded.
    changes = ",".join(page.pop("changes"))
    rest = json.dumps(page, separators=(",", ":"))
    body = f'{{"status":"ok","data":{{"changes":[{changes}],{rest[1:]}}}'
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/anomalies")
@endpoint(scope="booking:read", response=Anomaly, is_list=True)
def list_sync_anomalies() -> Response:
    """Events that could not take effect, unresolved double bookings, suspect clocks."""
    found = service.anomalies(db())
    return ok(found, meta={"limit": len(found), "next_cursor": None, "has_more": False})


@bp.get("/status")
@endpoint(scope="booking:read", response=SyncStatus)
def get_sync_status() -> Response:
    """Hub, node id, pending changes, last success and error, cursor, anomalies."""
    return ok(status.describe(db(), current_app.config.get("HUB_URL")))


@bp.post("/run")
@endpoint(scope="booking:admin", response=SyncRun, status=202, errors=("invalid_state",))
def run_sync() -> Response:
    """Ask the background worker to sync now."""
    worker = current_app.extensions.get("booking.sync_worker")
    if worker is None:
        raise InvalidState("This node syncs with no hub; start it with --hub URL --hub-key KEY.")
    worker.run_now()
    return ok({"queued": True}, status=202)
