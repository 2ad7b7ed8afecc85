"""The Messages and Import pages: what staff see and what they may change."""

from __future__ import annotations

import io
import json

from app import store
from tests.conftest import unchanged
from tests.outbound.helpers import book, days_ahead


def test_the_messages_page_shows_the_outbox_with_states_and_reasons(
    desk, client, admin_headers, make_resource, make_customer
):
    resource = make_resource(name="Chair 1")
    ada = make_customer(name="Ada", email="ada@example.com")
    nobody = make_customer(name="Bob", email="bob@example.com")
    client.patch(
        f"/modules/booking/customers/{nobody['id']}/messaging",
        json={"email_opt_out": True},
        headers=admin_headers,
    )
    book(client, admin_headers, resource["id"], days_ahead(2), ada["id"])
    book(client, admin_headers, resource["id"], days_ahead(3), nobody["id"])
    html = desk("booking:read").text("/messages")
    assert "Outbox" in html and "confirmation" in html
    assert "pending (0" not in html and "skipped (1)" in html and "pending (1)" in html
    assert "The customer opted out of email." in html
    assert "This node sends them." not in html  # a test app runs no sender
    skipped = desk("booking:read").text("/messages?state=skipped")
    assert skipped.count('<tr class="message-') == 1


def test_an_admin_sets_reminders_on_the_page_and_a_reader_cannot(desk, client, admin_headers, db):
    reader = desk("booking:read")
    with unchanged(db):
        response = reader.post("/messages/settings", {"reminder_minutes": "1440"})
    assert response.status_code == 403
    admin = desk("booking:admin")
    response = admin.post(
        "/messages/settings",
        {
            "reminder_minutes": "1440, 120",
            "channels": "sms",
            "channels_shown": "1",
            "shop_name": "Salon Ada",
        },
    )
    assert response.status_code == 302
    settings = client.get("/modules/booking/messaging", headers=admin_headers).json["data"]
    assert (settings["reminder_minutes"], settings["shop_name"]) == ([1440, 120], "Salon Ada")
    assert settings["channels"] == ["sms"]
    with unchanged(db):
        refused = admin.post("/messages/settings", {"reminder_minutes": "2, abc"})
    assert refused.status_code == 422 and "reminder_minutes" in refused.get_data(as_text=True)


def test_an_admin_makes_a_feed_and_sees_its_address_once(desk, make_resource, client):
    resource = make_resource(name="Chair 1")
    admin = desk("booking:admin")
    response = admin.post("/messages/feeds", {"resource_id": resource["id"]})
    assert response.status_code == 302
    page = admin.text("/messages")
    url = page.split("shown only now: ", 1)[1].split("<", 1)[0].strip()
    assert url.endswith(".ics")
    assert client.get(url.replace("http://localhost", "")).status_code == 200
    assert "shown only now" not in admin.text("/messages")


def _upload(session, name: str, content: str, kind: str = "customers"):
    return session.client.post(
        "/import",
        data={"csrf_token": session.csrf(), "kind": kind,
              "file": (io.BytesIO(content.encode()), name)},
        content_type="multipart/form-data",
    )  # fmt: skip


def test_a_csv_uploaded_twice_on_the_import_page_adds_no_duplicates(desk, db):
    writer = desk("booking:write")
    content = "external_id,name,email\ncrm-1,Ada,ada@example.com\ncrm-2,Bob,\n"
    first = _upload(writer, "people.csv", content)
    assert first.status_code == 200 and "2 new, 0 updated, 0 unchanged" in first.get_data(
        as_text=True
    )
    second = _upload(writer, "people.csv", content)
    assert "0 new, 0 updated, 2 unchanged" in second.get_data(as_text=True)
    assert store.count_rows(db, "customers") == 2


def test_a_bad_file_shows_every_refused_line_and_imports_nothing(desk, db):
    writer = desk("booking:write")
    with unchanged(db):
        response = _upload(writer, "people.csv", "external_id,name,email\na,,x\nb,Bob,bad\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported: 2 rows have errors." in html
    assert "line 2: name" in html and "line 3: email" in html


def test_a_reader_cannot_import_but_can_export(desk, db, make_customer):
    make_customer(name="Ada", external_id="crm-1")
    reader = desk("booking:read")
    with unchanged(db):
        assert _upload(reader, "people.csv", "external_id,name\nx,X\n").status_code == 403
    exported = reader.get("/export/customers.json")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="customers.json"'
    assert [row["external_id"] for row in json.loads(exported.data)] == ["crm-1"]
    assert reader.get("/export/customers.csv").data.decode().startswith("id,external_id,name")
    assert reader.get("/export/pets.csv").status_code == 404
