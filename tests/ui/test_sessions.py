"""Sessions end on the server: a copied cookie dies at Sign out and when its key is revoked."""

from __future__ import annotations

from app import store
from app.web.auth import revoke_key
from tests.conftest import unchanged
from tests.ui.conftest import Desk, key_id


def _copy(app, staff: Desk) -> Desk:
    """Another browser holding a copy of `staff`'s session cookie."""
    thief = Desk(app.test_client())
    cookie = staff.client.get_cookie("session")
    thief.client.set_cookie("session", cookie.value)
    return thief


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(app, desk, db):
    staff = desk("booking:admin")
    thief = _copy(app, staff)
    csrf = thief.csrf()  # taken while the session is live, as a thief would
    assert thief.get("/customers").status_code == 200

    assert staff.post("/signout").status_code == 302

    assert thief.get("/customers").headers["Location"].startswith("/signin")
    with unchanged(db):
        write = thief.post("/customers", {"name": "Mallory", "csrf_token": csrf})
    assert write.status_code == 302 and write.headers["Location"].startswith("/signin")
    assert db.execute("SELECT COUNT(*) FROM ui_sessions").fetchone()[0] == 0


def test_sign_out_leaves_other_sign_ins_alone(desk):
    first, second = desk("booking:read"), desk("booking:read")
    first.post("/signout")
    assert second.get("/customers").status_code == 200


def test_revoking_the_key_ends_a_copied_session_too(app, desk, db):
    staff = desk("booking:write")
    thief = _copy(app, staff)
    csrf = thief.csrf()
    revoke_key(db, key_id(staff.key))
    with unchanged(db):
        write = thief.post("/customers", {"name": "Mallory", "csrf_token": csrf})
    assert write.headers["Location"].startswith("/signin")
    assert thief.get("/day").headers["Location"].startswith("/signin")


def test_a_session_older_than_thirty_days_is_over(desk, db):
    staff = desk("booking:read")
    with store.transaction(db):
        db.execute("UPDATE ui_sessions SET created_at = created_at - 31 * 86400000")
    assert staff.get("/customers").headers["Location"].startswith("/signin")


def test_the_database_keeps_only_a_hash_of_the_session_id(app, desk, db):
    staff = desk("booking:read")
    cookie = staff.client.get_cookie("session").value
    sid = app.session_interface.get_signing_serializer(app).loads(cookie)["sid"]
    stored = db.execute("SELECT id_hash, key_id FROM ui_sessions").fetchall()
    assert stored == [(stored[0][0], key_id(staff.key))]
    assert sid not in stored[0][0]
