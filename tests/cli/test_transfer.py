"""`booking import` and `booking export`: matched by external_id, idempotent, all or nothing,
every refused row reported with its line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app import store
from app.cli import cli
from app.settings import SETTINGS
from sync import identity
from tests.conftest import snapshot

CUSTOMERS_CSV = """external_id,name,email,phone,tags,metadata,email_opt_out
crm-1,Ada Lovelace,ada@example.com,+33600000000,vip;regular,"{""since"": 2019}",false
crm-2,Charles Babbage,charles@example.com,,,,true
"""


@pytest.fixture
def invoke(db_path):
    runner = CliRunner(env={f"BOOKING_{name}": None for name in SETTINGS})

    def run(*args: str, ok: bool = True):
        result = runner.invoke(cli, [*args, "--db", db_path])
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def opened(db_path):
    databases = []

    def open_db():
        identity.init_database(db_path)  # what any `booking` command does first
        databases.append(store.open_db(db_path))
        return databases[-1]

    yield open_db
    for database in databases:
        database.close()


def customers(db) -> list[dict]:
    rows = db.execute(
        "SELECT external_id, name, email, phone, tags, metadata, email_opt_out FROM customers "
        "ORDER BY external_id"
    ).fetchall()
    return [
        dict(
            zip(
                ("external_id", "name", "email", "phone", "tags", "metadata", "opt"), r, strict=True
            )
        )
        for r in rows
    ]


def test_a_customer_csv_imported_twice_adds_no_duplicates_and_changes_nothing(
    invoke, opened, tmp_path
):
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS_CSV)
    first = invoke("import", "customers", str(path))
    assert "2 new, 0 updated, 0 unchanged" in first.output
    db = opened()
    assert customers(db) == [
        {
            "external_id": "crm-1",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "+33600000000",
            "tags": '["vip","regular"]',
            "metadata": '{"since":2019}',
            "opt": 0,
        },
        {
            "external_id": "crm-2",
            "name": "Charles Babbage",
            "email": "charles@example.com",
            "phone": None,
            "tags": "[]",
            "metadata": "{}",
            "opt": 1,
        },
    ]
    before = snapshot(db)
    second = invoke("import", "customers", str(path))
    assert "0 new, 0 updated, 2 unchanged" in second.output
    assert snapshot(db) == before  # not even a change-log row


def test_a_changed_row_updates_only_what_differs_and_syncs_as_a_change(invoke, opened, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS_CSV)
    invoke("import", "customers", str(path))
    db = opened()
    changes = store.count_rows(db, "change_log")
    path.write_text(CUSTOMERS_CSV.replace("ada@example.com", "ada@lovelace.example"))
    result = invoke("import", "customers", str(path))
    assert "0 new, 1 updated, 1 unchanged" in result.output
    assert customers(db)[0]["email"] == "ada@lovelace.example"
    (payload,) = db.execute(
        "SELECT payload FROM change_log WHERE entity = 'customer' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert set(json.loads(payload)) == {"email", "updated_at"}
    assert store.count_rows(db, "change_log") == changes + 1


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(invoke, opened, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(
        "external_id,name,email,sms_opt_out\n"
        "crm-1,Ada,ada@example.com,false\n"
        "crm-2,,not-an-email,maybe\n"
        "crm-1,Ada again,,\n"
        ",No id,,\n"
    )
    db = opened()
    before = snapshot(db)
    result = invoke("import", "customers", str(path), ok=False)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any("line 3: sms_opt_out: Use true or false." in line for line in lines)
    assert any("line 3: name:" in line for line in lines)
    assert any("line 3: email:" in line for line in lines)
    assert any("line 4: external_id: Also on line 2" in line for line in lines)
    assert any(
        "line 5: external_id: Give each new customer an external_id" in line for line in lines
    )
    assert "Nothing was imported: 3 rows have errors." in result.output
    assert "Traceback" not in result.output
    assert snapshot(db) == before


def test_json_files_import_too_and_report_items_by_number(invoke, opened, tmp_path):
    path = tmp_path / "customers.json"
    path.write_text(
        json.dumps(
            [
                {"external_id": "a", "name": "Ada", "tags": ["vip"]},
                {"external_id": "b", "name": "Bob", "metadata": "not an object"},
            ]
        )
    )
    result = invoke("import", "customers", str(path), ok=False)
    assert "line 2: metadata:" in result.output and store.count_rows(opened(), "customers") == 0
    path.write_text(json.dumps([{"external_id": "a", "name": "Ada", "tags": ["vip"]}]))
    assert "1 new" in invoke("import", "customers", str(path)).output


def test_an_export_imports_back_as_nothing_new(invoke, opened, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS_CSV)
    invoke("import", "customers", str(path))
    for file_format in ("csv", "json"):
        out = tmp_path / f"export.{file_format}"
        result = invoke("export", "customers", "-o", str(out))
        assert result.output.strip() == f"Exported 2 customers to {out}."
        back = invoke("import", "customers", str(out))
        assert "0 new, 0 updated, 2 unchanged" in back.output, file_format


def test_bookings_import_by_external_id_and_name_their_customer(invoke, opened, tmp_path):
    customers_file = tmp_path / "customers.csv"
    customers_file.write_text(CUSTOMERS_CSV)
    invoke("import", "customers", str(customers_file))
    db = opened()
    from app.domain import resources

    chair = resources.create(
        db,
        {
            "name": "Chair",
            "timezone": "UTC",
            "default_duration_minutes": 60,
            "buffer_minutes": 0,
            "business_hours": None,
            "metadata": {},
        },
    )
    path = tmp_path / "bookings.csv"
    path.write_text(
        "external_id,resource_id,customer_external_id,start_time,duration_minutes,status,title\n"
        f"old-1,{chair['id']},crm-1,2031-01-06T10:00:00Z,45,confirmed,Cut\n"
        f"old-2,{chair['id']},,2031-01-06T11:00:00Z,30,,\n"
    )
    assert "2 new" in invoke("import", "bookings", str(path)).output
    rows = db.execute(
        "SELECT external_id, status, customer_id IS NOT NULL, end_time - start_time FROM bookings "
        "ORDER BY external_id"
    ).fetchall()
    assert rows == [("old-1", "confirmed", 1, 45 * 60_000), ("old-2", "pending", 0, 30 * 60_000)]
    assert "0 new, 0 updated, 2 unchanged" in invoke("import", "bookings", str(path)).output
    # An imported booking's customer gets no confirmation, only reminders when the shop sets some.
    kinds = [r[0] for r in db.execute("SELECT kind FROM messages WHERE channel = 'email'")]
    assert "confirmation" not in kinds

    moved = path.read_text().replace("T10:00:00Z", "T12:00:00Z")
    path.write_text(moved)
    before = snapshot(db)
    result = invoke("import", "bookings", str(path), ok=False)
    assert "line 2: start_time:" in result.output and "does not move bookings" in result.output
    assert snapshot(db) == before
    out = tmp_path / "bookings.json"
    invoke("export", "bookings", "-o", str(out))
    exported = json.loads(out.read_text())
    assert [b["external_id"] for b in exported] == ["old-1", "old-2"]
    assert exported[0]["customer_external_id"] == "crm-1"


def test_a_booking_row_in_a_taken_slot_is_refused_with_its_line(invoke, opened, tmp_path):
    db = opened()
    from app.domain import resources

    chair = resources.create(
        db,
        {
            "name": "Chair",
            "timezone": "UTC",
            "default_duration_minutes": 60,
            "buffer_minutes": 0,
            "business_hours": None,
            "metadata": {},
        },
    )
    path = tmp_path / "bookings.csv"
    path.write_text(
        "external_id,resource_id,start_time,duration_minutes\n"
        f"a,{chair['id']},2031-01-06T10:00:00Z,60\n"
        f"b,{chair['id']},2031-01-06T10:30:00Z,60\n"
        "c,res_nope,2031-01-06T12:00:00Z,60\n"
    )
    before = snapshot(db)
    result = invoke("import", "bookings", str(path), ok=False)
    assert "line 3: start_time: Chair is not free" in result.output
    assert "line 4:" in result.output and "No resource has the id" in result.output
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("people.txt", "x", "Say --format csv or --format json"),
        ("people.json", "{not json", "The file is not JSON"),
        ("people.json", '{"name": "Ada"}', "A JSON file must be an array of objects."),
        ("people.csv", "", "The CSV file has no header row."),
    ],
)
def test_a_file_that_cannot_be_read_is_one_sentence(invoke, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    result = invoke("import", "customers", str(path), ok=False)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_a_missing_file_is_one_sentence(invoke, tmp_path):
    result = invoke("import", "customers", str(tmp_path / "nope.csv"), ok=False)
    assert result.exit_code == 1 and "Cannot read" in result.output
