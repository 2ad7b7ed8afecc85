"""`booking backup` for a hub on PostgreSQL: PostgreSQL's own pg_dump, in its custom format.

A hub's database lives on a server that the program does not own, so its copies are the
server's business: `pg_dump` writes a consistent snapshot while the hubs keep serving, and
`pg_restore` puts it into a new database. `booking backup` runs pg_dump when it is on the
PATH, and otherwise says the command to run. The dumps get the names of the SQLite backups,
ending in `.dump`:

    booking-2026-01-04T030405.123Z-manual.dump

`booking serve` takes no nightly backup of a PostgreSQL hub: that is the server's (a cron'd
pg_dump, or base backups with WAL archiving), README § The hub on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.core.times import wall_ms
from app.ops.backups import BackupError, file_name
from app.store.postgres import redact

SUFFIX = ".dump"
_NAME = re.compile(r"^booking-\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z-manual\.dump$")
DUMP_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Dump:
    path: Path
    size: int


def pg_dump_program() -> str | None:
    """`pg_dump` on the PATH; None when there is none."""
    return shutil.which("pg_dump")


def command(dbname: str, target: Path, program: str = "pg_dump") -> list[str]:
    """The pg_dump command line that writes the database `dbname` names to `target`."""
    return [program, "--format=custom", "--no-owner", f"--file={target}", f"--dbname={dbname}"]


def shown_command(url: str, target: Path) -> str:
    """The command for a person to run, with the password left out."""
    return " ".join(command(f"'{redact(url)}'", target))


def _without_password(url: str) -> tuple[str, dict[str, str]]:
    """The connection string without its password, and the environment that carries it: a
    password on pg_dump's command line would show in every `ps` listing."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def dump(url: str, target: Path | None, folder: Path) -> Path:
    """Dump the database at `url` to `target` (default: a new name in `folder`); its path.

    Raises BackupError with a sentence when pg_dump is missing or fails; a failed dump
    leaves no file behind.
    """
    if target is None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BackupError(
                f"Cannot make the backups folder {folder}: {error.strerror}."
            ) from None
        target = folder / file_name(wall_ms(), "manual").removesuffix(".db")
        target = target.with_name(target.name + SUFFIX)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name.")
    program = pg_dump_program()
    if program is None:
        raise BackupError(
            "A hub on PostgreSQL is backed up with PostgreSQL's pg_dump, which is not on this "
            "machine's PATH; install PostgreSQL's client programs (Debian: apt install "
            f"postgresql-client), or run it where they are: {shown_command(url, target)}."
        )
    partial = target.with_name(target.name + ".partial")
    dbname, env = _without_password(url)
    try:
        done = subprocess.run(
            command(dbname, partial, program),
            env=env,
            capture_output=True,
            text=True,
            timeout=DUMP_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Cannot run {program}: {error}.") from None
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump could not back up {redact(url)}: {_reason(done.stderr)}.")
    os.replace(partial, target)
    return target


def _reason(stderr: str) -> str:
    """pg_dump's first error line, without its program prefix and without a password."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    first = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "")
    first = re.sub(r"^pg_dump:\s*(error:\s*)?", "", first)
    return redact(first).rstrip(".") or "it exited without saying why"


def list_dumps(folder: Path) -> list[Dump]:
    """The dumps `booking backup` wrote into `folder`, oldest first."""
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    return [Dump(p, p.stat().st_size) for p in entries if _NAME.match(p.name) and p.is_file()]
