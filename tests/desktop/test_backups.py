"""`booking backup`, `booking backup list`, `booking restore`: the backups folder, pruning, the
nightly schedule, and a restore that refuses what is unsafe and gives the copy its own id."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from app import store
from app.ops import backups, scheduler
from tests.desktop.conftest import add_customer, customer_names


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def node_of(path: str) -> str:
    db = store.open_db(path)
    try:
        return store.node_id(db)
    finally:
        db.close()


def test_backup_without_a_path_goes_to_the_backups_folder_beside_the_database(booking, db_path):
    booking("init")
    add_customer(db_path, "Ada")
    result = booking("backup")
    folder = Path(db_path).parent / "backups"
    [taken] = backups.list_backups(folder)
    assert f"to {taken.path}" in result.stdout and taken.kind == "manual"
    assert customer_names(str(taken.path)) == ["Ada"]
    # One self-contained file, checked, and marked so that a restore takes a new node id.
    assert not Path(f"{taken.path}-wal").exists()
    connection = sqlite3.connect(taken.path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert connection.execute(
        "SELECT value FROM node_meta WHERE key = 'restored_from_backup'"
    ).fetchone() == ("1",)
    connection.close()
    assert backups.status(folder)["check"] == "ok"


def test_backup_list_names_each_backup_with_its_kind(booking, db_path):
    booking("init")
    empty = booking("backup", "list").stdout
    assert "No backups yet" in empty
    booking("backup")
    listing = booking("backup", "list").stdout
    [name] = re.findall(r"booking-\S+-manual\.db", listing)
    assert "restore one with: booking restore NAME" in listing


def test_backup_to_a_folder_that_cannot_be_made_is_one_sentence_and_writes_nothing(
    booking, db_path
):
    booking("init")
    result = booking("backup", ok=False, env={"BOOKING_BACKUP_DIR": "/proc/forbidden/backups"})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot make the backups folder /proc/forbidden")
    assert len(result.stderr.strip().splitlines()) == 1


def _backup(day: datetime, kind: str = "nightly") -> backups.Backup:
    millis = int(day.timestamp() * 1000)
    return backups.Backup(Path(backups.file_name(millis, kind)), millis, kind)


def test_pruning_keeps_the_newest_of_each_day_and_week_and_every_manual_backup():
    start = datetime(2030, 1, 1, 2, 30).astimezone()
    nightly = [_backup(start + timedelta(days=n)) for n in range(60)]
    extra_same_day = _backup(start + timedelta(days=59, hours=1))  # the newest of the last day
    manual = _backup(start + timedelta(days=3), "manual")
    upgrades = [_backup(start + timedelta(days=n, hours=3), "before-upgrade") for n in (5, 6)]
    every = sorted([*nightly, extra_same_day, manual, *upgrades], key=lambda b: b.taken_ms)
    kept = backups.to_keep(every, daily=7, weekly=4)
    days = {b.local_time.date() for b in every if b.path in kept and b.kind == "nightly"}
    last_seven = {(start + timedelta(days=n)).date() for n in range(53, 60)}
    assert last_seven <= days
    assert extra_same_day.path in kept and nightly[-1].path not in kept
    weeks = {b.local_time.isocalendar()[:2] for b in every if b.path in kept}
    assert len(weeks - {(start + timedelta(days=n)).isocalendar()[:2] for n in range(53, 60)}) >= 2
    assert manual.path in kept and upgrades[-1].path in kept and upgrades[0].path not in kept
    assert len(kept) <= 7 + 4 + 1 + 1


def test_prune_deletes_the_files_it_does_not_keep(tmp_path):
    start = datetime(2030, 1, 1, 2, 30).astimezone()
    for n in range(20):
        (tmp_path / _backup(start + timedelta(days=n)).path).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("mine")
    removed = backups.prune(tmp_path, daily=3, weekly=2)
    left = backups.list_backups(tmp_path)
    assert len(removed) == 20 - len(left) and 3 <= len(left) <= 5
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_the_nightly_backup_is_due_after_the_hour_once_a_day():
    now = datetime(2030, 1, 7, 9, 0).astimezone()  # a laptop switched on at 9
    assert scheduler.is_due(None, now, hour=2)
    assert scheduler.is_due(_backup(datetime(2030, 1, 6, 23, 0).astimezone()), now, hour=2)
    assert not scheduler.is_due(_backup(datetime(2030, 1, 7, 2, 5).astimezone()), now, hour=2)
    early = datetime(2030, 1, 7, 1, 0).astimezone()  # before 2:00, yesterday's 2:00 counts
    assert not scheduler.is_due(_backup(datetime(2030, 1, 6, 3, 0).astimezone()), early, hour=2)


def test_the_backup_job_takes_a_backup_when_due_and_not_again(booking, db_path):
    booking("init")
    folder = Path(db_path).parent / "backups"
    job = scheduler.BackupScheduler(db_path, folder, hour=2, daily=7, weekly=4)
    job.run_once()
    job.run_once()
    [taken] = backups.list_backups(folder)
    assert taken.kind == "nightly"


def test_restore_puts_the_backup_back_and_takes_a_node_id_of_its_own(booking, db_path):
    booking("init")
    add_customer(db_path, "Ada")
    original_node = node_of(db_path)
    booking("backup")
    [taken] = backups.list_backups(Path(db_path).parent / "backups")
    add_customer(db_path, "Grace")
    result = booking("restore", taken.name)
    assert customer_names(db_path) == ["Ada"]
    new_node = node_of(db_path)
    assert new_node != original_node
    assert f"It was node {original_node} and is node {new_node}" in result.stdout
    # The database it replaced is a backup of its own: the restore can be undone.
    [saved] = [b for b in backups.list_backups(taken.path.parent) if b.kind == "before-restore"]
    assert customer_names(str(saved.path)) == ["Ada", "Grace"]
    status = booking("status").stdout
    assert "restored from a backup made by `booking backup`" in status


def test_restoring_the_before_restore_backup_undoes_a_restore(booking, db_path):
    booking("init")
    add_customer(db_path, "Ada")
    booking("backup")
    folder = Path(db_path).parent / "backups"
    [first] = backups.list_backups(folder)
    add_customer(db_path, "Grace")
    booking("restore", first.name)
    [saved] = [b for b in backups.list_backups(folder) if b.kind == "before-restore"]
    booking("restore", saved.name)
    assert customer_names(db_path) == ["Ada", "Grace"]


def test_restore_of_an_unknown_name_is_one_sentence_and_changes_nothing(booking, db_path):
    booking("init")
    before = digest(db_path)
    result = booking("restore", "booking-nope.db", ok=False)
    assert result.exit_code == 1
    assert "No backup named booking-nope.db" in result.stderr
    assert "booking backup list" in result.stderr
    assert digest(db_path) == before


def test_restore_of_a_file_that_is_not_a_backup_is_refused(booking, db_path, tmp_path):
    booking("init")
    before = digest(db_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = booking("restore", str(junk), ok=False)
    assert result.exit_code == 1
    assert "is not a backup of a booking database" in result.stderr
    assert digest(db_path) == before
    assert not (Path(db_path).parent / "backups").exists()  # not even a before-restore copy


def test_restore_is_refused_while_the_serve_lock_is_held(booking, db_path):
    from app.ops import lock

    booking("init")
    booking("backup")
    [taken] = backups.list_backups(Path(db_path).parent / "backups")
    add_customer(db_path, "Grace")
    held = lock.acquire(db_path, "serve")
    try:
        result = booking("restore", taken.name, ok=False)
    finally:
        held.release()
    assert result.exit_code == 1
    assert "`booking serve` is running on" in result.stderr and "stop it first" in result.stderr
    assert customer_names(db_path) == ["Grace"]


def test_backup_and_restore_work_in_a_folder_whose_name_uri_syntax_would_break(runner, tmp_path):
    from app.cli import cli

    path = str(tmp_path / "shop #1 ?100%" / "booking.db")
    for args in (["init"], ["backup"]):
        assert runner.invoke(cli, [*args, "--db", path]).exit_code == 0
    [taken] = backups.list_backups(Path(path).parent / "backups")
    result = runner.invoke(cli, ["restore", taken.name, "--db", path])
    assert result.exit_code == 0, result.output
    assert "is node" in result.stdout
