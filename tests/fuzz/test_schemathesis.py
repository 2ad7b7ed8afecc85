"""Fuzz every route of /openapi.json with schemathesis (issues 3 §6 and 15 §2).

Every check schemathesis has runs, except positive_data_acceptance: the document states in
descriptions the rules JSON Schema cannot say (an end after its start, a 31-day window), so a
schema-valid request may still be refused, with a 422 that names the field. Everything else
holds: no 5xx; documented statuses, content types, headers and bodies; schema-invalid data
refused; 405 with Allow; 401 without a key; a made record readable through its links. The sync
routes are called with a sync key, the others with an admin key. Then the stateful phase walks
the document's links (create, then read, change and delete what was made).

The example count is bounded so the run fits in CI, and the examples are the same on every run
(derandomized), so CI is reproducible; FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 runs a longer, new search.
"""

import os
import sqlite3
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app import create_app, store
from app.web.auth import create_key

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "15"))
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
EXCLUDED = [positive_data_acceptance]
load_all_checks()


def _key(database, name: str, scope: str) -> dict[str, str]:
    _, key = create_key(database, name=name, scopes=[scope], rate_limit="1000000/minute")
    return {"Authorization": f"Bearer {key}"}


def _make_app():
    """A fresh database with an admin and a sync key and a few real records, so ids sometimes
    hit."""
    path = str(Path(tempfile.mkdtemp(prefix="booking-fuzz-")) / "fuzz.db")
    app = create_app({"TESTING": True, "DB": path})
    database = store.open_db(path)
    headers = {
        "admin": _key(database, "fuzz", "booking:admin"),
        "sync": _key(database, "hub", "sync"),
    }
    database.close()
    client = app.test_client()
    admin = headers["admin"]
    resource = client.post(
        "/modules/booking/resources", json={"name": "Chair"}, headers=admin
    ).json["data"]
    client.post("/modules/booking/customers", json={"name": "Ada"}, headers=admin)
    client.post(
        "/modules/booking/bookings",
        json={"resource_id": resource["id"], "start_time": "2030-01-07T10:00:00Z"},
        headers=admin,
    )
    _copy(path, path + ".start")
    return app, headers


def _copy(source: str, target: str) -> None:
    """Copy a database with SQLite's backup API, which the app's open connections see."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    original.close()
    copy.close()


# Built at import: schemathesis parametrizes from a schema object, and its lazy
# fixture loader does not work with this pytest.
APP, HEADERS = _make_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


# The WSGI transport hands back the body as sent, so ask for it uncompressed.
PLAIN = {"Accept-Encoding": "identity"}


@schema.auth()
class Keys:
    """The bearer key for each route, given as schemathesis's auth, so that its own cases
    without a key (401 expected) stay without one."""

    def get(self, case, context):
        return HEADERS["sync" if case.path in ("/sync/push", "/sync/pull") else "admin"]

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), **data}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)
def test_every_route_answers_within_its_schema(case):
    case.call_and_validate(headers=PLAIN, excluded_checks=EXCLUDED)


class Workflows(schema.as_state_machine()):
    """Chains of calls along the document's links, each answered within the schema.

    Each chain starts from the same records: what one chain made must not change what the
    next one draws, or hypothesis sees its data generation change under it (flaky).
    """

    def setup(self):
        _copy(APP.config["DB"] + ".start", APP.config["DB"])

    def get_call_kwargs(self, case):
        return {"headers": PLAIN}

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=EXCLUDED,
            headers=PLAIN,
            transport_kwargs=kwargs,
        )


TestWorkflows = Workflows.TestCase
TestWorkflows.settings = settings(
    max_examples=STATEFUL_EXAMPLES,
    stateful_step_count=6,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=list(HealthCheck),
)
