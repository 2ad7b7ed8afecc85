"""A pull page on PostgreSQL is read along the (tx, seq) index, not sorted out of the whole
change log: with 100k changes the sort cost 70 ms a page and made a full pull quadratic."""

from __future__ import annotations

import psycopg
import pytest

from app.store import changelog, postgres

ROWS = 3_000


@pytest.fixture
def feed_url(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        for first in range(1, ROWS, 500):  # a transaction per push, as the hub writes them
            with conn.transaction():
                conn.execute(
                    "INSERT INTO change_log (origin_node, origin_seq, hlc, entity, entity_id, "
                    "op, payload) SELECT 'n1', g, 'h' || g, 'customer', 'c' || g, 'upsert', "
                    "'{}' FROM generate_series(%s::int, %s::int) g",
                    [first, first + 499],
                )
        conn.execute("ANALYZE change_log")
    return postgres_url


def _plan(url: str, statement: str, params: list) -> str:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"EXPLAIN {postgres.to_psycopg(statement)}", params).fetchall()
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("skipping", [False, True])
def test_a_pull_page_walks_the_feed_index_without_sorting(feed_url, skipping):
    statement = changelog.since_statement(postgres.PostgresDialect(), skipping=skipping)
    params = [1, 1500, *(["other-node"] if skipping else []), 500]
    plan = _plan(feed_url, statement, params)
    assert "change_log_feed" in plan and "Sort" not in plan, plan
