"""`booking doctor` and the health checks: each condition that needs a person, said in a
sentence, and the support bundle."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from app import store
from app.core.times import wall_ms
from app.ops import health

HOUR = 3_600_000


def test_doctor_on_a_sound_database_with_a_fresh_backup_finds_nothing_to_do(booking):
    booking("init")
    booking("backup")
    result = booking("doctor")
    assert "ok  Database: The database passed its integrity check just now." in result.stdout
    assert "ok  Backups:  Last backup taken just now" in result.stdout
    assert "ok  Version:  Booking service 0.1.0." in result.stdout
    assert "MB free on the disk of" in result.stdout
    assert "!!" not in result.stdout


def test_doctor_without_any_backup_asks_for_a_person_and_exits_1(booking):
    booking("init")
    result = booking("doctor", ok=False)
    assert result.exit_code == 1
    assert "!!  Backups:  No backup yet" in result.stdout
    assert result.stderr.strip() == "Error: 1 of the checks above need a person (marked !!)."


def test_doctor_says_when_the_disk_is_nearly_full(booking):
    booking("init")
    booking("backup")
    result = booking("doctor", ok=False, env={"BOOKING_DISK_WARN_MB": str(10**12)})
    assert "!!  Disk:" in result.stdout and "free some space" in result.stdout


def test_doctor_bundle_holds_the_report_and_the_logs_and_no_database(booking, db_path, tmp_path):
    booking("init")
    booking("backup")
    logs = Path(db_path).parent / "logs"
    logs.mkdir()
    (logs / "booking.log").write_text("2030-01-07 INFO booking.requests: GET /healthz 200\n")
    (logs / "booking.log.1").write_text("older\n")
    target = tmp_path / "support.zip"
    result = booking("doctor", "--bundle", str(target))
    assert f"Wrote {target}" in result.stdout
    with zipfile.ZipFile(target) as bundle:
        names = sorted(bundle.namelist())
        report = json.loads(bundle.read("health.json"))
        text = bundle.read("health.txt").decode()
    assert names == ["health.json", "health.txt", "logs/booking.log", "logs/booking.log.1"]
    assert report["version"] == "0.1.0" and {c["name"] for c in report["checks"]} >= {
        "Database",
        "Disk",
        "Sync",
        "Clock",
        "Backups",
        "Version",
    }
    assert "Database:" in text


def test_doctor_bundle_refuses_to_overwrite_a_file(booking, tmp_path):
    booking("init")
    booking("backup")
    target = tmp_path / "mine.zip"
    target.write_bytes(b"keep")
    result = booking("doctor", "--bundle", str(target), ok=False)
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert target.read_bytes() == b"keep"


def test_a_hub_silent_for_a_day_needs_a_person():
    now = wall_ms()
    state = {"last_success": str(now - 25 * HOUR), "last_error": "Cannot reach the hub"}
    check = health.sync(state, "http://hub:8080", now)
    assert check.needs_person and "has not been reached since 1 day ago" in check.summary
    fine = health.sync({"last_success": str(now - 2 * HOUR)}, "http://hub:8080", now)
    assert not fine.needs_person and "2 hours ago" in fine.summary
    never = {"failing_since": str(now - 30 * HOUR), "last_error": "refused"}
    assert health.sync(never, "http://hub:8080", now).needs_person
    assert not health.sync({"failing_since": str(now - HOUR)}, "http://hub", now).needs_person
    assert not health.sync({}, None, now).needs_person


def test_a_clock_off_by_more_than_a_minute_needs_a_person():
    assert health.clock({"hub_clock_offset_ms": "-61000"}).needs_person
    ahead = health.clock({"hub_clock_offset_ms": "-61000"}).summary
    assert "61 seconds ahead of the hub's" in ahead
    assert "behind" in health.clock({"hub_clock_offset_ms": "90000"}).summary
    assert not health.clock({"hub_clock_offset_ms": "2500"}).needs_person
    assert not health.clock({}).needs_person


def test_a_backup_older_than_two_days_needs_a_person(booking, db_path):
    booking("init")
    booking("backup")
    folder = Path(db_path).parent / "backups"
    assert not health.backup(folder, wall_ms()).needs_person
    later = health.backup(folder, wall_ms() + 49 * HOUR)
    assert later.needs_person and "2 days ago" in later.summary


def test_a_failed_backup_is_named_by_the_backup_check(booking, db_path):
    booking("init")
    booking("backup")
    folder = Path(db_path).parent / "backups"
    Path(db_path).rename(db_path + ".gone")
    booking("backup", ok=False)
    summary = health.backup(folder, wall_ms()).summary
    assert "The last attempt failed: No database at" in summary


def test_a_damaged_database_fails_the_live_integrity_check(tmp_path):
    path = tmp_path / "damaged.db"
    db = store.open_db(str(path))
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("CREATE TABLE t (x TEXT)")
    with db.conn:
        db.conn.executemany("INSERT INTO t VALUES (?)", [(f"row {n}" * 20,) for n in range(2000)])
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with open(path, "r+b") as file:  # a torn write: garbage over the header of a table page
        file.seek(page_size * 5)
        file.write(b"\xff" * 64)
    db = store.open_db(str(path))
    try:
        check = health.integrity_live(db)
    finally:
        db.close()
    assert check.needs_person and "failed its integrity check" in check.summary
    assert "booking restore NAME" in check.summary


def test_a_sqlite_hub_reports_the_laptops_it_serves_instead_of_its_own_sync(tmp_path):
    from tests.sync.harness import CUSTOMERS, Replica

    hub = Replica(tmp_path, "hub")
    where = health.Where(hub.path, tmp_path / "backups", None, 1)
    names = [check.name for check in health.run(hub.db, where, live_integrity=True)]
    assert names == ["Database", "Disk", "Sync", "Clock", "Backups", "Version"]  # nobody synced

    laptops = [Replica(tmp_path, f"laptop-{n}") for n in range(2)]
    for laptop in laptops:
        laptop.connect(hub)
        assert laptop.call("POST", CUSTOMERS, {"name": laptop.name}).status_code == 201
        laptop.sync()
    checks = {check.name: check for check in health.run(hub.db, where, live_integrity=True)}
    assert "Sync" not in checks and "Clock" not in checks
    assert checks["Laptops"].summary == (
        "2 laptops sync with this hub; the last changes came just now."
    )
    assert not checks["Laptops"].needs_person
    for replica in (hub, *laptops):
        replica.close()


def test_a_laptop_that_syncs_keeps_its_sync_and_clock_checks(tmp_path):
    from tests.sync.harness import Replica

    hub, laptop = Replica(tmp_path, "hub"), Replica(tmp_path, "laptop")
    laptop.connect(hub)
    laptop.sync()
    where = health.Where(laptop.path, tmp_path / "backups", "http://hub", 1)
    checks = {check.name: check for check in health.run(laptop.db, where, live_integrity=True)}
    assert checks["Sync"].summary == "Last synced with http://hub just now."
    assert "Laptops" not in checks
    hub.close()
    laptop.close()
