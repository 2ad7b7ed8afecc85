"""A newer version backs the database up before it migrates; an older one refuses a database
a newer one has migrated, with a sentence that says what to do, and leaves it untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from app import create_app
from app.ops import backups, upgrade
from tests.desktop.conftest import applied, older_database


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_database_of_the_version_before_is_backed_up_then_migrated(booking, db_path):
    last = older_database(db_path)  # whichever migration is the newest
    assert last not in applied(db_path)
    result = booking("init")
    [taken] = backups.list_backups(Path(db_path).parent / "backups")
    assert taken.kind == "before-upgrade"
    assert f"Backed up the database before upgrading it: {taken.path}" in result.stdout
    assert last not in applied(str(taken.path))  # the copy is of the old schema
    assert last in applied(db_path)
    booking("init")  # nothing pending any more: no second backup
    assert len(backups.list_backups(taken.path.parent)) == 1


def test_a_new_database_needs_no_backup_before_its_first_migration(booking, db_path):
    booking("init")
    assert backups.list_backups(Path(db_path).parent / "backups") == []


def _from_the_future(db_path: str) -> None:
    connection = sqlite3.connect(db_path)
    with connection:
        connection.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('booking', 'm0099_from_the_future', '2031-01-01')"
        )
    connection.close()


@pytest.mark.parametrize("command", [["init"], ["status"], ["keys", "list"], ["serve"]])
def test_an_older_version_refuses_a_newer_database_and_says_what_to_do(booking, db_path, command):
    booking("init")
    _from_the_future(db_path)
    before = digest(db_path)
    result = booking(*command, ok=False)
    assert result.exit_code == 1
    [sentence] = result.stderr.strip().splitlines()
    assert "was upgraded by a newer version of the booking service" in sentence
    assert "m0099_from_the_future" in sentence
    assert "pipx upgrade booking-service" in sentence and "booking restore NAME" in sentence
    assert sentence.endswith(".")
    assert digest(db_path) == before


def test_the_app_factory_refuses_a_newer_database_too(booking, db_path):
    booking("init")
    _from_the_future(db_path)
    with pytest.raises(upgrade.NewerDatabase):
        create_app({"TESTING": True, "DB": db_path})


def test_a_newer_backup_is_not_restored(booking, db_path, tmp_path):
    booking("init")
    newer = tmp_path / "newer.db"
    booking("backup", str(newer))
    _from_the_future(str(newer))
    before = digest(db_path)
    result = booking("restore", str(newer), ok=False)
    assert result.exit_code == 1 and "newer version" in result.stderr
    assert digest(db_path) == before
