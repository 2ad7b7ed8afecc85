"""The two statements a page of sync uses in bulk, the same on every backend: rows inserted
in one go (insert_rows), and rows matched against many ids (Dialect.one_of)."""

from __future__ import annotations

import pytest

from app import store


def _anomalies(count: int) -> list[tuple]:
    return [
        (f"a{n:04d}", "double_booking", f"bk_{n}", None, "why", f"{n:04d}") for n in range(count)
    ]


def test_rows_inserted_in_one_go_read_back_with_their_values_and_nulls(db):
    columns = ("id", "kind", "booking_id", "other_booking_id", "message", "hlc")
    with store.transaction(db):
        db.insert_rows("anomalies", columns, _anomalies(3))
    assert store.anomaly_records(db) == [
        dict(zip(columns, row, strict=True)) for row in _anomalies(3)
    ]


def test_a_row_that_breaks_a_constraint_fails_the_whole_insert(db):
    columns = ("id", "kind", "booking_id", "other_booking_id", "message", "hlc")
    with pytest.raises(store.ConstraintViolated), store.transaction(db):
        db.insert_rows("anomalies", columns, [*_anomalies(2), _anomalies(1)[0]])
    assert store.anomaly_records(db) == []


@pytest.mark.parametrize("count", [1, 3, 500])
def test_one_of_matches_exactly_the_ids_given(db, count):
    columns = ("id", "kind", "booking_id", "other_booking_id", "message", "hlc")
    with store.transaction(db):
        db.insert_rows("anomalies", columns, _anomalies(1200))
    wanted = [f"a{n:04d}" for n in range(0, 2 * count, 2)]
    among, params = db.dialect.one_of("id", [*wanted, "missing"])
    found = [row[0] for row in db.execute(f"SELECT id FROM anomalies WHERE {among}", params)]
    assert sorted(found) == wanted
