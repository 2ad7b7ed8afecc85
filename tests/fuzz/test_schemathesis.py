"""Fuzz every route of /openapi.json with schemathesis (issue 3 §6).

Each generated request, valid or not, must get a non-5xx answer that conforms to the schema:
documented status code, JSON content type, and a body matching the response schema. The
example count is bounded so the run fits in CI; raise FUZZ_EXAMPLES for a longer run.
"""

import os
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app, store
from app.web.auth import create_key

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _make_app():
    """A fresh database with an admin key and a few real records, so ids sometimes hit."""
    path = str(Path(tempfile.mkdtemp(prefix="booking-fuzz-")) / "fuzz.db")
    app = create_app({"TESTING": True, "DB": path})
    database = store.open_db(path)
    _, key = create_key(
        database, name="fuzz", scopes=["booking:admin"], rate_limit="1000000/minute"
    )
    database.close()
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    resource = client.post(
        "/modules/booking/resources", json={"name": "Chair"}, headers=headers
    ).json["data"]
    client.post("/modules/booking/customers", json={"name": "Ada"}, headers=headers)
    client.post(
        "/modules/booking/bookings",
        json={"resource_id": resource["id"], "start_time": "2030-01-07T10:00:00Z"},
        headers=headers,
    )
    return app, headers


# Built at import: schemathesis parametrizes from a schema object, and its lazy
# fixture loader does not work with this pytest.
APP, HEADERS = _make_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_route_answers_within_its_schema(case):
    case.call_and_validate(headers=HEADERS, checks=CHECKS)
