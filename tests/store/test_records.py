"""Customers, resources and blockers: stored, found, listed, and merged field by field."""

from __future__ import annotations

import pytest

from app import store
from app.store import changelog
from tests.store import records


def _insert(db, insert, record):
    with store.transaction(db):
        insert(db, record)
    return record


@pytest.mark.parametrize(
    "insert,get,make",
    [
        (store.insert_customer, store.get_customer, records.customer),
        (store.insert_resource, store.get_resource, records.resource),
    ],
)
def test_a_record_reads_back_as_written_with_its_json_decoded(db, insert, get, make):
    record = _insert(db, insert, make(metadata={"n": 1, "nested": ["é"]}))
    stored = get(db, record["id"])
    assert {name: stored[name] for name in record} == record


def test_an_unknown_id_raises_row_missing_or_the_callers_error(db):
    with pytest.raises(store.RowMissing, match="No customer has the id 'cus_x'"):
        store.get_customer(db, "cus_x")

    class UnknownResource(Exception):
        pass

    with pytest.raises(UnknownResource):
        store.get_resource(db, "res_x", missing=UnknownResource)
    with pytest.raises(store.RowMissing):
        store.get_booking(db, "bk_x")
    with pytest.raises(store.RowMissing):
        store.get_blocker(db, "blk_x")


def test_customers_list_in_id_order_and_filter(db):
    ada = _insert(db, store.insert_customer, records.customer(name="Ada", tags=["vip"]))
    bob = _insert(db, store.insert_customer, records.customer(name="Bob 50%", email="B@X.org"))
    ids = [ada["id"], bob["id"]]

    def found(**filters):
        rows = store.list_customers(db, after_id=None, limit=10, **filters)
        return [row["id"] for row in rows]

    assert found() == sorted(ids)
    assert found(tags=["vip"]) == [ada["id"]]
    assert found(email="b@x.ORG") == [bob["id"]]
    assert found(q="50%") == [bob["id"]]  # % taken literally
    assert found(q="aDA") == [ada["id"]]  # ASCII case ignored
    assert found(q="_") == []
    assert store.list_customers(db, after_id=min(ids), limit=10)[0]["id"] == max(ids)
    assert store.count_customers(db) == 2


def test_resources_list_by_name_and_keep_their_time_zone(db):
    chair = _insert(db, store.insert_resource, records.resource(name="Chair"))
    _insert(db, store.insert_resource, records.resource(name="Room"))
    assert [r["id"] for r in store.list_resources(db, after_id=None, limit=5, q="hai")] == [
        chair["id"]
    ]
    assert store.resource_timezone(db, chair["id"]) == "Europe/Paris"
    assert store.resource_timezone(db, "res_gone") == "UTC"


def test_an_edit_writes_only_the_sent_fields_and_a_change_carrying_them(db):
    customer = _insert(db, store.insert_customer, records.customer(name="Ada", phone="1"))
    with store.transaction(db):
        store.update_customer(db, customer["id"], {"name": "Ada L."})
    stored = store.get_customer(db, customer["id"])
    assert (stored["name"], stored["phone"]) == ("Ada L.", "1")
    edit = changelog.own_pending(db, 1, 10)[0]
    assert edit["payload"] == {"name": "Ada L."}


def test_a_delete_removes_the_record_and_its_tombstone_wins_later_fields(db):
    customer = _insert(db, store.insert_customer, records.customer())
    with store.transaction(db):
        store.delete_customer(db, customer["id"])
    assert store.is_tombstoned(db, "customer", customer["id"])
    with store.transaction(db):
        written = store.apply_fields(db, "customer", customer["id"], {"name": "Back"}, "9" * 16)
    assert written == {}
    with pytest.raises(store.RowMissing):
        store.get_customer(db, customer["id"])
    assert [c["op"] for c in changelog.own_pending(db, 0, 10)] == ["upsert", "delete"]


def test_an_older_stamp_loses_a_field_and_a_newer_one_wins_it(db):
    customer = _insert(db, store.insert_customer, records.customer(name="Ada"))
    stamp = store.field_clocks(db, "customer", customer["id"])["name"]
    with store.transaction(db):
        assert store.apply_fields(db, "customer", customer["id"], {"name": "Old"}, "0") == {}
        newer = stamp + "~"
        assert store.apply_fields(db, "customer", customer["id"], {"name": "New"}, newer) == {
            "name": "New"
        }
    assert store.get_customer(db, customer["id"])["name"] == "New"
    assert store.field_clocks(db, "customer", customer["id"])["name"] == newer


def test_a_field_arriving_before_its_record_makes_a_placeholder(db):
    with store.transaction(db):
        store.apply_fields(db, "customer", "cus_early", {"phone": "5", "unknown": 1}, "0002")
    early = store.get_customer(db, "cus_early")
    assert (early["name"], early["phone"]) == ("", "5")
    with store.transaction(db):
        store.apply_fields(db, "customer", "cus_early", {"name": "Ada", "phone": "6"}, "0001")
    early = store.get_customer(db, "cus_early")
    assert (early["name"], early["phone"]) == ("Ada", "5")  # the later phone kept


def test_many_upserts_at_once_end_as_one_by_one(db):
    upserts = [
        ("customer", "cus_a", {"name": "A", "tags": ["x"]}, "0003"),
        ("customer", "cus_a", {"name": "older"}, "0001"),
        ("customer", "cus_b", {"name": "B"}, "0002"),
        ("resource", "res_a", {"name": "Chair"}, "0002"),
        ("customer", "cus_b", {"phone": "7"}, "0004"),
    ]
    with store.transaction(db):
        store.apply_fields_many(db, [(e, f"{i}-many", v, h) for e, i, v, h in upserts])
        for entity, record_id, values, hlc in upserts:
            store.apply_fields(db, entity, f"{record_id}-one", values, hlc)
    for getter, record_id in (
        (store.get_customer, "cus_a"),
        (store.get_customer, "cus_b"),
        (store.get_resource, "res_a"),
    ):
        many, one = getter(db, f"{record_id}-many"), getter(db, f"{record_id}-one")
        assert {**many, "id": record_id} == {**one, "id": record_id}
    assert store.get_customer(db, "cus_a-many")["name"] == "A"
    assert store.get_customer(db, "cus_b-many")["phone"] == "7"


def test_blockers_are_found_by_resource_and_walked_in_batches(db):
    resource = _insert(db, store.insert_resource, records.resource())
    made = [
        _insert(db, store.insert_blocker, records.blocker(resource["id"], start_time=start))
        for start in (3_000, 1_000, 2_000)
    ]
    early = store.blockers_for_resource(db, resource["id"], before=2_500)
    assert [b["start_time"] for b in early] == [1_000, 2_000]
    walked = store.iter_blockers(db, after_id=None, resource_id=resource["id"], batch=2)
    assert [b["id"] for b in walked] == sorted(b["id"] for b in made)
    with store.transaction(db):
        store.delete_blocker(db, made[0]["id"])
    assert len(store.blockers_for_resource(db, resource["id"], before=10_000)) == 2
