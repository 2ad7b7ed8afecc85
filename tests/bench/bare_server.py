"""The ceiling of the stack, served exactly like `booking serve` (Flask + waitress, its threads).

    python -m tests.bench.bare_server json PORT         # GET / -> {"ok": true}
    python -m tests.bench.bare_server insert PORT DB    # POST / -> one-row INSERT + COMMIT

The insert endpoint uses the app's own open_db() (WAL, synchronous=NORMAL, busy timeout), a
connection per thread and the server's background WAL checkpointer, so the ratio to booking
creates measures our work, not the setup.
"""

import sys
import threading

import waitress
from flask import Flask, jsonify, request

from app import store
from app.commands.serve import QUICK_THREADS_ON_SQLITE


def make_app(mode: str, db_path: str | None) -> Flask:
    app = Flask(__name__)
    local = threading.local()

    def connection():
        if not hasattr(local, "db"):
            local.db = store.open_db(db_path)
        return local.db

    if mode == "json":

        @app.get("/")
        def hello():
            return jsonify({"ok": True})

    else:
        setup = store.open_db(db_path)
        setup.execute("PRAGMA journal_mode = WAL")
        setup.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body TEXT)")
        setup.close()
        store.Checkpointer(db_path).start()  # as `booking serve` does

        @app.post("/")
        def insert():
            db = connection()
            db.conn.execute("BEGIN IMMEDIATE")
            db.conn.execute("INSERT INTO rows (body) VALUES (?)", [request.get_data(as_text=True)])
            db.conn.execute("COMMIT")
            return jsonify({"ok": True}), 201

    return app


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    waitress.serve(
        make_app(mode, sys.argv[3] if len(sys.argv) > 3 else None),
        host="127.0.0.1",
        port=port,
        threads=QUICK_THREADS_ON_SQLITE,  # as `booking serve` on the benchmarks' SQLite files
        _quiet=True,
    )
