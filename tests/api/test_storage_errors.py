"""A full disk or a read-only database: a 503 that says so, nothing half-written, and writes
that resume by themselves (issue #12, item 4).

SQLite's SQLITE_FULL is simulated by capping the app's connection at its current size with
`PRAGMA max_page_count` (after a VACUUM, so no free page is left to reuse); a read-only
database by `PRAGMA query_only`, which fails writes with SQLITE_READONLY as a read-only file
does (the tests run as root, for whom file modes do not stop writes).
"""

from __future__ import annotations

import pytest

from app import store
from tests.conftest import assert_error, unchanged
from tests.ui.conftest import Desk, key_text

CUSTOMERS = "/modules/booking/customers"
# On PostgreSQL a lost database is tested by stopping the server instead (tests/postgres_hub).
PRAGMA_SIMULATED = "simulates a full disk or a read-only file with SQLite pragmas"
BIG = {"name": "Grace", "metadata": {"notes": "x" * 15_000}}  # needs pages the cap forbids
FULL_MESSAGE = (
    "The server's disk is full, so nothing was saved; try again once space has been freed."
)


@pytest.fixture
def app_db(app, db_path):
    """The connection the app uses on this thread (the test client runs views right here)."""
    return store.connection(db_path)


@pytest.fixture
def disk_full(app_db, db):
    db.execute("VACUUM")
    pages = app_db.execute("PRAGMA page_count").fetchone()[0]
    app_db.execute(f"PRAGMA max_page_count = {pages}")
    yield
    app_db.execute("PRAGMA max_page_count = 1073741823")


@pytest.mark.sqlite_only(reason=PRAGMA_SIMULATED)
def test_a_full_disk_answers_503_storage_full_and_writes_nothing(
    client, db, admin_headers, disk_full
):
    with unchanged(db):
        response = client.post(CUSTOMERS, json=BIG, headers=admin_headers)
        error = assert_error(response, 503, "storage_full")
    assert error["message"] == FULL_MESSAGE
    assert response.headers["Retry-After"] == "30"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.sqlite_only(reason=PRAGMA_SIMULATED)
def test_healthz_reports_the_full_disk_then_recovers_by_itself(
    client, admin_headers, app_db, disk_full
):
    client.post(CUSTOMERS, json=BIG, headers=admin_headers)
    health = client.get("/healthz")
    error = assert_error(health, 503, "storage_full")
    assert error["db"] == "not_writable"
    assert health.headers["Retry-After"] == "30"

    app_db.execute("PRAGMA max_page_count = 1073741823")  # space comes back
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json["data"]["db"] == "ok"


@pytest.mark.sqlite_only(reason=PRAGMA_SIMULATED)
def test_writes_resume_when_space_returns(client, db, admin_headers, app_db, disk_full):
    assert client.post(CUSTOMERS, json=BIG, headers=admin_headers).status_code == 503
    app_db.execute("PRAGMA max_page_count = 1073741823")
    made = client.post(CUSTOMERS, json=BIG, headers=admin_headers)
    assert made.status_code == 201, made.json
    assert (
        client.get(f"{CUSTOMERS}/{made.json['data']['id']}", headers=admin_headers).json["data"][
            "metadata"
        ]
        == BIG["metadata"]
    )
    assert db.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == 1


def test_healthz_is_ok_while_nothing_failed(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["data"]["db"] == "ok"


@pytest.mark.sqlite_only(reason=PRAGMA_SIMULATED)
def test_a_read_only_database_answers_503_storage_unavailable(
    client, db, admin_headers, make_customer, app_db
):
    customer = make_customer()
    app_db.execute("PRAGMA query_only = ON")
    try:
        with unchanged(db):
            response = client.patch(
                f"{CUSTOMERS}/{customer['id']}", json={"name": "Ada"}, headers=admin_headers
            )
            error = assert_error(response, 503, "storage_unavailable")
            assert "cannot be written right now" in error["message"]
            assert response.headers["Retry-After"] == "30"
            health = client.get("/healthz")
            assert assert_error(health, 503, "storage_unavailable")["db"] == "not_writable"
    finally:
        app_db.execute("PRAGMA query_only = OFF")
    assert client.get("/healthz").status_code == 200
    patched = client.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"name": "Ada"}, headers=admin_headers
    )
    assert patched.status_code == 200


@pytest.mark.sqlite_only(reason=PRAGMA_SIMULATED)
def test_a_page_says_the_database_is_read_only_and_saves_nothing(app, db, make_key, app_db):
    desk = Desk(app.test_client())
    assert desk.post("/signin", {"api_key": key_text(make_key("booking:admin"))}).status_code == 302
    csrf = desk.csrf()
    app_db.execute("PRAGMA query_only = ON")
    try:
        with unchanged(db):
            response = desk.post("/customers", {"name": "Grace", "csrf_token": csrf})
    finally:
        app_db.execute("PRAGMA query_only = OFF")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "cannot be written right now" in page and "Traceback" not in page
