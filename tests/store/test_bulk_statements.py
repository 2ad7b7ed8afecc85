"""The statements a page of sync uses in bulk, the same on every backend: rows inserted in one
go (insert_rows), inserted or updated in one go (upsert_rows), and rows matched against many
ids (Dialect.one_of)."""

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


_COLUMNS = ("id", "kind", "booking_id", "other_booking_id", "message", "hlc")
_KEEP_LOWER = (
    "SET hlc = excluded.hlc, message = excluded.message WHERE excluded.hlc < anomalies.hlc"
)


def _held(db) -> list[tuple]:
    return [tuple(record[c] for c in _COLUMNS) for record in store.anomaly_records(db)]


@pytest.mark.parametrize("count", [2, 500])
def test_upserted_rows_go_in_and_held_ones_take_the_update_where_it_applies(db, count):
    with store.transaction(db):
        db.upsert_rows("anomalies", _COLUMNS, _anomalies(count), key="id", update=_KEEP_LOWER)
    assert sorted(_held(db)) == _anomalies(count)
    lower = ("a0000", "double_booking", "bk_0", None, "earlier", "000")  # sorts lower
    higher = (f"a{count - 1:04d}", "double_booking", "x", None, "later", "9999")
    new = ("b0001", "double_booking", "bk_new", "bk_0", "new", "0001")
    with store.transaction(db):
        db.upsert_rows("anomalies", _COLUMNS, [lower, higher, new], key="id", update=_KEEP_LOWER)
    held = {row[0]: row for row in _held(db)}
    assert held["a0000"] == ("a0000", "double_booking", "bk_0", None, "earlier", "000")
    assert held[higher[0]] == _anomalies(count)[-1]  # a later stamp changes nothing
    assert held["b0001"] == new and len(held) == count + 1


def test_a_key_named_twice_in_one_batch_is_applied_in_order(db):
    first = ("a0001", "double_booking", "bk_1", None, "first", "0005")
    lower = ("a0001", "double_booking", "bk_1", None, "second", "0003")
    higher = ("a0001", "double_booking", "bk_1", None, "third", "0004")
    with store.transaction(db):
        db.upsert_rows("anomalies", _COLUMNS, [first, lower, higher], key="id", update=_KEEP_LOWER)
    assert _held(db) == [lower]


@pytest.mark.parametrize("count", [2, 200])
def test_an_upsert_that_breaks_a_constraint_changes_nothing(db, count):
    broken = ("b0009", "double_booking", "bk_9", None, None, "0009")  # message is required
    with pytest.raises(store.ConstraintViolated), store.transaction(db):
        db.upsert_rows(
            "anomalies", _COLUMNS, [*_anomalies(count), broken], key="id", update=_KEEP_LOWER
        )
    assert _held(db) == []
