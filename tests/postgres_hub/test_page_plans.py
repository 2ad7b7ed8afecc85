"""A page's lookups by a list of ids are planned for the table as it is, not as it was.

A hub's first push fills empty tables page by page. psycopg prepares a statement after a few
runs and PostgreSQL then keeps one generic plan for it; made while `bookings` held a few rows,
that plan scanned the whole table, and kept doing so at 100k rows (44 ms a page, a push of
20k bookings at 1,000/s). No ANALYZE runs in between to replace it (autovacuum looks once a
minute), so list lookups are planned at every run, and a list of integers is also bounded by
its range so that even a plan from no statistics at all reads the index for it.
"""

from __future__ import annotations

import psycopg

from app.store import changelog, postgres
from app.store.bookings import resources_of_bookings

NODE = "n1"
ROWS = 3_000


def _prepared(db: postgres.PostgresConnection) -> list[str]:
    return [row[0] for row in db.execute("SELECT statement FROM pg_prepared_statements")]


def test_a_lookup_by_a_list_of_ids_is_never_prepared(postgres_url):
    db = postgres.open_db(postgres_url)
    with db.transaction():  # one connection throughout, whose prepared statements we can see
        for _ in range(12):  # psycopg prepares what runs more than five times
            assert resources_of_bookings(db, ["bkg_1", "bkg_2"]) == set()
            db.execute("SELECT count(*) FROM bookings WHERE id = ?", ["bkg_1"])
        prepared = _prepared(db)
    db.close()
    assert any("WHERE id = $1" in statement for statement in prepared), prepared
    assert not any("ANY(" in statement for statement in prepared), prepared


def test_a_list_of_integers_reads_the_index_without_statistics(postgres_url):
    with psycopg.connect(postgres_url) as conn:  # one node's rows, never analyzed
        conn.execute(
            "INSERT INTO change_log (origin_node, origin_seq, hlc, entity, entity_id, op, "
            "payload) SELECT %s, g, 'h' || g, 'customer', 'c' || g, 'upsert', '{}' "
            "FROM generate_series(1, %s) g",
            [NODE, ROWS],
        )
    among, params = postgres.PostgresDialect().one_of("origin_seq", list(range(1001, 1501)))
    statement = f"SELECT origin_seq FROM change_log WHERE origin_node = ? AND {among}"
    with psycopg.connect(postgres_url) as conn:
        plan = "\n".join(
            row[0]
            for row in conn.execute(f"EXPLAIN {postgres.to_psycopg(statement)}", [NODE, *params])
        )
        held = conn.execute(postgres.to_psycopg(statement), [NODE, *params]).fetchall()
    index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
    assert "origin_seq >=" in index_condition and "origin_seq <=" in index_condition, plan
    assert sorted(seq for (seq,) in held) == list(range(1001, 1501))


def test_the_change_log_finds_what_it_holds_through_the_bounded_list(postgres_url):
    db = postgres.open_db(postgres_url)
    with db.transaction():
        changelog.store_remote_many(
            db,
            [
                (
                    {
                        "origin_node": NODE, "origin_seq": seq, "hlc": f"h{seq}",
                        "entity": "customer", "entity_id": f"c{seq}", "op": "upsert",
                        "payload": {},
                    },
                    False,
                )
                for seq in (3, 5, 9)
            ],
        )  # fmt: skip
    asked = [{"origin_node": NODE, "origin_seq": seq} for seq in (1, 3, 4, 9, 12)]
    assert changelog.held_among(db, asked) == {(NODE, 3), (NODE, 9)}
    db.close()
