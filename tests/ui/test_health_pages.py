"""The Health page, the banner when a person is needed, and one-time sign-in links."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from app import store
from app.core.times import wall_ms
from app.ops import backups
from app.store import signin_links
from app.web.auth import create_key


def test_the_health_page_lists_every_check_and_the_last_backup(desk, app, db_path):
    backups.take(db_path, Path(app.config["BACKUP_DIR"]), "manual")
    page = desk("booking:read").text("/health")
    for name in ("Database", "Disk", "Sync", "Clock", "Backups", "Version"):
        assert f'<th scope="row">{name}</th>' in page
    assert "Last backup taken just now" in page
    assert re.search(r"booking-\S+-manual\.db", page)
    assert "needs a person" not in page.lower()


def test_without_a_backup_every_page_shows_the_banner(desk):
    page = desk("booking:read").text("/day")
    assert "This laptop needs a person" in page
    assert "No backup yet" in page


def test_the_banner_goes_once_a_backup_is_taken(desk, app, db_path):
    opened = desk("booking:read")
    backups.take(db_path, Path(app.config["BACKUP_DIR"]), "nightly")
    assert "This laptop needs a person" not in opened.text("/day")


def test_a_clock_off_by_two_minutes_shows_in_the_banner(desk, app, db, db_path):
    backups.take(db_path, Path(app.config["BACKUP_DIR"]), "nightly")
    store.set_sync_state(db, hub_clock_offset_ms=120_000, last_success=wall_ms())
    app.config["HUB_URL"] = "http://hub.example:8080"
    page = desk("booking:read").text("/customers")
    assert "120 seconds behind the hub&#39;s" in page


def test_the_sign_in_page_shows_no_banner(client):
    assert "needs a person" not in client.get("/signin").get_data(as_text=True)


# -- one-time sign-in links (booking open) ------------------------------------------------------


def _link(db, scopes: list[str], *, lifetime_ms: int = 60_000) -> tuple[str, str]:
    record, _key = create_key(db, name="this laptop", scopes=scopes, rate_limit="600/minute")
    token = "tok-" + hashlib.sha256(repr(record).encode()).hexdigest()
    with store.transaction(db):
        signin_links.insert_signin_link(
            db, hashlib.sha256(token.encode()).hexdigest(), record["id"], wall_ms() + lifetime_ms
        )
    return token, record["id"]


def test_a_sign_in_link_signs_in_once(app, db):
    token, _ = _link(db, ["booking:write"])
    browser = app.test_client()
    response = browser.get(f"/signin/link?token={token}")
    assert response.status_code == 302 and response.headers["Location"] == "/day"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Signed in as this laptop" in browser.get("/day").get_data(as_text=True)
    again = app.test_client().get(f"/signin/link?token={token}")
    assert again.status_code == 401
    assert "run `booking open` again" in again.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM signin_links").fetchone()[0] == 0


def test_a_sign_in_link_out_of_time_signs_no_one_in(app, db):
    token, _ = _link(db, ["booking:write"], lifetime_ms=-1)
    browser = app.test_client()
    assert browser.get(f"/signin/link?token={token}").status_code == 401
    assert browser.get("/").status_code == 302  # still signed out: back to sign-in


def test_a_sign_in_link_of_a_revoked_key_signs_no_one_in(app, db):
    token, key_id = _link(db, ["booking:admin"])
    with store.transaction(db):
        store.revoke_api_key(db, key_id, wall_ms())
    assert app.test_client().get(f"/signin/link?token={token}").status_code == 401


def test_an_unknown_or_missing_token_is_401_and_stores_nothing(app, db):
    for path in ("/signin/link?token=made-up", "/signin/link"):
        response = app.test_client().get(path)
        assert response.status_code == 401
    assert db.execute("SELECT COUNT(*) FROM ui_sessions").fetchone()[0] == 0
