"""What every benchmark table sets up: the phase length, an admin key, a server's resources."""

from __future__ import annotations

import os

from app import store
from app.web.auth import create_key
from sync import identity
from tests.live.server import LiveServer

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))


def bench_key(db_path: str) -> dict[str, str]:
    """Headers carrying a new admin key on the database at db_path, with no practical limit."""
    identity.init_database(db_path)
    db = store.open_db(db_path)
    _, key = create_key(db, name="bench", scopes=["booking:admin"], rate_limit="10000000/minute")
    db.close()
    return {"Authorization": f"Bearer {key}"}


def use_key(server: LiveServer, headers: dict[str, str]) -> None:
    server.admin_key = headers["Authorization"].removeprefix("Bearer ")


def make_resources(server: LiveServer, count: int) -> list[str]:
    """Create `count` resources through the API; return their ids."""
    return [
        server.request("POST", "/modules/booking/resources", json={"name": f"R{i}"}).json()["data"][
            "id"
        ]
        for i in range(count)
    ]
