"""Run the real `booking serve` in a subprocess on 127.0.0.1 for live tests.

    with LiveServer(db_path) as server:
        requests.get(f"{server.url}/modules/booking/customers", headers=server.headers, timeout=5)

The server's stdout and stderr go to files in a temporary folder (no pipe can fill up and block
it); when it dies or never answers GET /healthz, the error raised carries both (datasette's
wait_for_server).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 20.0  # seconds for the whole start, every poll included
POLL_TIMEOUT = 0.5  # seconds for one GET /healthz
STOP_TIMEOUT = 10.0  # seconds to wait after SIGTERM (and after SIGKILL)
PORT_ATTEMPTS = 3  # another process may take the free port before the server binds it
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ServerError(RuntimeError):
    """The server exited or did not become healthy; the message includes its output."""


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class LiveServer:
    """`python -m app serve --db DB_PATH --port <free port> *extra_args`, from start() to stop().

    `env` adds to the environment (a None value removes a variable); BOOKING_* variables of the
    calling shell are dropped so they cannot leak into a test. Output is not forced unbuffered:
    the key and URL lines must reach a redirected stdout while serving, as they would in a log.
    With `options_from_env=True` the database and port are passed as BOOKING_DB and BOOKING_PORT
    instead of as options.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *extra_args: str,
        env: dict[str, str | None] | None = None,
        options_from_env: bool = False,
    ) -> None:
        self.db_path = str(db_path)
        self.extra_args = list(extra_args)
        self.options_from_env = options_from_env
        self.port = find_free_port()
        self.admin_key: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_")}
        for name, value in (env or {}).items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value
        self._log_dir: Path | None = None
        self._final_output = ("", "")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def command(self) -> list[str]:
        command = [sys.executable, "-m", "app", "serve"]
        if not self.options_from_env:
            command += ["--db", self.db_path, "--port", str(self.port)]
        return command + self.extra_args

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LiveServer:
        """Start the process; return once GET /healthz answers 200, else raise ServerError."""
        assert self.process is None, "a LiveServer starts once"
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._spawn()
                self._wait_until_healthy()
            except ServerError:
                port_taken = "is in use" in self.read_output()[1]
                self._end_process()
                if not port_taken or attempt == PORT_ATTEMPTS:
                    self.stop()
                    raise
                self._collect_output()
                self.process = None
                self.port = find_free_port()
            except BaseException:
                self.stop()
                raise
            else:
                break
        self.admin_key = self._admin_key_from_output()
        return self

    def stop(self) -> int | None:
        """SIGTERM, wait, SIGKILL if it will not go; keep its output. Safe to call again."""
        self._end_process()
        self._collect_output()
        return self.process.returncode if self.process is not None else None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what tests use ----------------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """Bearer headers for the admin key this start printed."""
        if self.admin_key is None:
            raise ServerError(f"This start printed no admin key.{self._describe()}")
        return {"Authorization": f"Bearer {self.admin_key}"}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One HTTP request to the server, with the admin headers and a timeout unless given."""
        if "headers" not in kwargs:
            kwargs["headers"] = self.headers
        kwargs.setdefault("timeout", 10)
        return requests.request(method, f"{self.url}{path}", **kwargs)

    def read_output(self) -> tuple[str, str]:
        """(stdout, stderr) of the server so far (after stop(): all of it), as text."""
        if self._log_dir is None:
            return self._final_output
        return tuple(  # type: ignore[return-value]
            (self._log_dir / name).read_bytes().decode("utf-8", errors="replace")
            for name in ("stdout.log", "stderr.log")
        )

    # -- internals ---------------------------------------------------------------------------

    def _spawn(self) -> None:
        self._log_dir = Path(tempfile.mkdtemp(prefix="booking-live-"))
        if self.options_from_env:
            self.env.update(BOOKING_DB=self.db_path, BOOKING_PORT=str(self.port))
        # The child gets its own append-mode handles; read_output() opens the files afresh.
        with (
            open(self._log_dir / "stdout.log", "ab") as stdout,
            open(self._log_dir / "stderr.log", "ab") as stderr,
        ):
            self.process = subprocess.Popen(
                self.command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )

    def _end_process(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)

    def _collect_output(self) -> None:
        if self._log_dir is not None:
            self._final_output = self.read_output()
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"`booking serve` exited with status {self.process.returncode} "
                    f"before it was healthy.{self._describe()}"
                )
            try:
                response = requests.get(f"{self.url}/healthz", timeout=POLL_TIMEOUT)
            except requests.RequestException as error:
                last_problem = type(error).__name__
            else:
                if response.status_code == 200:
                    return
                last_problem = f"HTTP {response.status_code}: {response.text[:200]}"
            time.sleep(0.05)
        raise ServerError(
            f"`booking serve` was not healthy at {self.url} within {STARTUP_TIMEOUT:.0f} s "
            f"({last_problem}).{self._describe()}"
        )

    def _admin_key_from_output(self) -> str | None:
        keys = [line.strip() for line in self.read_output()[0].splitlines() if "sk_" in line]
        return keys[0] if keys else None

    def _describe(self) -> str:
        stdout, stderr = self.read_output()
        return f"\n$ {' '.join(self.command)}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}"
