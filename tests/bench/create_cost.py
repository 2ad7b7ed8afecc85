"""Instructions per request, a booking create against the bench's bare insert, by callgrind.

    .venv/bin/python -m tests.bench.create_cost [REQUESTS]     # needs valgrind

Timings move with a shared machine's load; instruction counts do not. Both apps run in one
process under Flask's test client (no sockets: what differs is our code, not waitress), the
bare insert app of tests/bench/bare_server.py beside ours. After a warm-up, callgrind counts
REQUESTS (default 200) of each, switched on and off around them by callgrind_control, and the
ratio is the one README § Performance gives.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("bare", "create")
_BODY = '{"worker": 1, "i": 1, "note": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
_JSON = {"Content-Type": "application/json"}


def _instant(hour: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_893_456_000 + hour * 3600))


def serve_phases(requests: int) -> None:
    """Run under callgrind: warm up, then each phase between two lines the parent answers."""
    from app import store
    from app.web.auth import create_key
    from app.web.factory import create_app
    from sync import identity
    from tests.bench import bare_server

    folder = Path(tempfile.mkdtemp(prefix="create-cost-"))
    path = str(folder / "app.db")
    identity.init_database(path)
    _, key = create_key(
        store.open_db(path), name="bench", scopes=["booking:admin"], rate_limit="100000/second"
    )
    ours = create_app({"DB": path}).test_client()
    headers = {"Authorization": f"Bearer {key}", **_JSON}
    made = ours.post("/modules/booking/resources", json={"name": "Chair"}, headers=headers)
    resource = made.json["data"]["id"]
    bare = bare_server.make_app("insert", str(folder / "bare.db")).test_client()

    def creates(first_hour: int) -> None:
        for hour in range(first_hour, first_hour + requests):
            body = {"resource_id": resource, "start_time": _instant(hour), "duration_minutes": 30}
            assert (
                ours.post("/modules/booking/bookings", json=body, headers=headers).status_code
                == 201
            )

    def inserts() -> None:
        for _ in range(requests):
            assert bare.post("/", data=_BODY, headers=_JSON).status_code == 201

    creates(0)
    inserts()
    for phase in PHASES:
        print(phase, flush=True)
        sys.stdin.readline()
        inserts() if phase == "bare" else creates(100_000)
        print("done", flush=True)
        sys.stdin.readline()


def _control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], capture_output=True, check=True)


def measure(requests: int) -> dict[str, float]:
    """Millions of instructions per request of each phase."""
    folder = Path(tempfile.mkdtemp(prefix="create-cost-out-"))
    child = subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={folder}/callgrind.%p",
            sys.executable,
            "-m",
            "tests.bench.create_cost",
            "--phases",
            str(requests),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONMALLOC": "malloc"},  # callgrind follows malloc, not pymalloc
    )
    assert child.stdin is not None and child.stdout is not None
    pid = str(child.pid)
    for line in child.stdout:
        phase = line.strip()
        if phase in PHASES:
            _control("-z", pid)
            _control("-i", "on", pid)
            current = phase
        elif phase == "done":
            _control("-i", "off", pid)
            _control("-d", current, pid)  # the dump's trigger line ends with the phase's name
        else:
            continue
        child.stdin.write("\n")
        child.stdin.flush()
    child.wait()
    counts = {}
    for dump in folder.glob("callgrind.*"):
        text = dump.read_text()
        trigger = re.search(r"^desc: Trigger: (.*)$", text, re.M)
        total = re.search(r"^totals: (\d+)", text, re.M)
        name = trigger.group(1).split()[-1] if trigger else ""
        if name in PHASES and total:
            counts[name] = int(total.group(1)) / requests / 1e6
    return counts


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--phases":
        serve_phases(int(sys.argv[2]))
        return
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    counts = measure(requests)
    print(f"bare insert: {counts['bare']:.2f} M instructions a request")
    print(f"create:      {counts['create']:.2f} M instructions a request")
    ratio = counts["bare"] / counts["create"]
    print(f"creates run at {ratio:.0%} of the bare insert, by instructions")


if __name__ == "__main__":
    main()
