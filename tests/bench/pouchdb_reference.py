"""The PouchDB reference of `make bench`: what a CouchDB-protocol replicator moves per document.

tests/bench/pouchdb/replicate.js writes booking documents (a booking's fields with its two
events) into one LevelDB PouchDB and replicates them to an empty one in the same Node process:
no HTTP, the best case for PouchDB. The bookings benchmark compares bookings per second with
this, in the same run. The first run installs PouchDB from the npm registry (package-lock.json
pins it) into tests/bench/pouchdb/node_modules.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).parent / "pouchdb"
INSTALL_TIMEOUT_S = 300


class ReferenceUnavailable(RuntimeError):
    """Node.js or npm is missing, or PouchDB could not be installed: the message says which."""


@dataclass(frozen=True)
class Replication:
    docs: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.docs / self.seconds

    @property
    def cpu_bound_rate(self) -> float:
        return self.docs / self.cpu_seconds


def _install() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise ReferenceUnavailable(
            "The PouchDB reference needs Node.js and npm (Debian: apt-get install nodejs npm)."
        )
    if not (FOLDER / "node_modules" / "pouchdb").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=FOLDER,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise ReferenceUnavailable(f"npm ci in {FOLDER} failed:\n{done.stderr[-2000:]}")
    return node


def replicate(count: int) -> Replication:
    """Replicate `count` booking documents between two fresh LevelDB databases."""
    node = _install()
    folder = Path(tempfile.mkdtemp(prefix="booking-bench-pouchdb-"))
    try:
        done = subprocess.run(
            [node, str(FOLDER / "replicate.js"), str(folder), str(count)],
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if done.returncode != 0:
        raise ReferenceUnavailable(f"replicate.js failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Replication(result["docs"], result["seconds"], result["cpu_seconds"])
