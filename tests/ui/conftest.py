"""Fixtures for the pages: a signed-in browser session (Desk) per scope, and API factories."""

from __future__ import annotations

import re
from typing import Any

import pytest

DAY = "2030-01-07"  # a Monday
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Desk:
    """One browser session on the pages: keeps its cookies, sends the page's CSRF token."""

    def __init__(self, client) -> None:
        self.client = client

    def csrf(self) -> str:
        page = self.client.get("/signin")
        if page.status_code == 302:  # signed in: any page carries the token
            page = self.client.get("/sync")
        return CSRF.search(page.get_data(as_text=True)).group(1)

    def get(self, path: str):
        return self.client.get(path)

    def text(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True):
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.csrf())
        return self.client.post(path, data=body)


def key_text(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def key_id(key: str) -> str:
    return "key_" + key.removeprefix("sk_").partition("_")[0]


@pytest.fixture
def desk(app, make_key):
    """Factory: a Desk signed in with a new key of these scopes (and optional tokens)."""

    def open_desk(*scopes: str, tokens: int | None = None) -> Desk:
        opened = Desk(app.test_client())
        key = key_text(make_key(*scopes, tokens=tokens))
        response = opened.post("/signin", {"api_key": key})
        assert response.status_code == 302, response.get_data(as_text=True)
        opened.key = key
        return opened

    return open_desk


@pytest.fixture
def make_booking(client, make_resource, admin_headers):
    """Factory: a booking made through the API (2030-01-07 10:00 UTC on a new resource)."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = {"start_time": f"{DAY}T10:00:00Z", **overrides}
        body.setdefault("resource_id", make_resource()["id"])
        response = client.post("/modules/booking/bookings", json=body, headers=admin_headers)
        assert response.status_code == 201, response.json
        return response.json["data"]

    return make


def api_get(client, path: str, headers: dict[str, str]) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def field_error(html: str, field_id: str) -> str:
    """The text of the error shown next to a field (its id + '-error')."""
    found = re.search(rf'id="{field_id}-error">(.*?)</p>', html, re.S)
    assert found, f"no error shown next to {field_id}"
    return found.group(1)
