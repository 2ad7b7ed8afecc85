"""`make bench`, second table: sync throughput over loopback HTTP against a real hub.

The hub is `booking serve` in a subprocess; the nodes are databases in this process, synced
with sync.engine.sync_once through sync.client.HubClient, exactly as `booking sync` does.

- node A writes RECORDS customers through app.store.upsert_local (the real local write path,
  so its change rows are genuine), then one sync_once pushes them all and pulls them back;
- node B, empty, pulls everything with one sync_once;
- 1% of the customers change on node A: one sync_once on A, then one on B;
- the ceiling, measured in the same run: the same change rows copied from one SQLite file to
  another with one executemany INSERT in one transaction.

Set BENCH_SYNC_RECORDS to change the size (the targets are stated for 100,000).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.store import Connection
from app.web.auth import create_key
from sync import identity
from sync.client import HubClient
from sync.engine import SyncReport, sync_once
from tests.live.server import LiveServer

RECORDS = int(os.environ.get("BENCH_SYNC_RECORDS", "100000"))
CHANGED = max(1, RECORDS // 100)
SEED_TRANSACTION = 25_000  # customers per local write transaction while seeding
TARGET_RATE = 15_000  # changes/s, each direction
TARGET_SHARE = 0.15  # of the raw copy
TARGET_INCREMENTAL_S = 0.25
_COPY_COLUMNS = "origin_node, origin_seq, hlc, entity, entity_id, op, payload, clock_suspect"


@dataclass
class Timing:
    """One sync_once, split at the end of its push phase by the progress callbacks.

    CPU seconds (this process, which is the node, and the hub's process) show which side the
    time goes to, and stay meaningful when other work shares the machine.
    """

    push_s: float
    pull_s: float
    report: SyncReport
    push_cpu: tuple[float, float] = (0.0, 0.0)  # (node, hub)
    pull_cpu: tuple[float, float] = (0.0, 0.0)

    @property
    def total_s(self) -> float:
        return self.push_s + self.pull_s


def _hub_cpu(pid: int | None) -> float:
    """User + system CPU seconds the process has used so far (0 when unknown)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Clock:
    hub_cpu: Callable[[], float]
    marks: list[tuple[float, float, float]] = field(default_factory=list)

    def mark(self) -> tuple[float, float, float]:
        return time.perf_counter(), time.process_time(), self.hub_cpu()

    def progress(self, kind: str, _count: int) -> None:
        if kind == "push":
            self.marks.append(self.mark())


def timed_sync(
    db: Connection,
    client: HubClient,
    hub_pid: int | None = None,
    hub_cpu: Callable[[], float] | None = None,
) -> Timing:
    """Run sync_once and time its push phase (to the last acked batch) and its pull phase.

    The hub's CPU seconds come from `hub_cpu` when given (a hub of several processes), else
    from the process `hub_pid`."""
    clock = _Clock(hub_cpu or (lambda: _hub_cpu(hub_pid)))
    start = clock.mark()
    report = sync_once(db, client, progress=clock.progress)
    end = clock.mark()
    assert not report.restored_hub, "the hub looked restored in the middle of the benchmark"
    split = clock.marks[-1] if clock.marks else start
    return Timing(
        split[0] - start[0],
        end[0] - split[0],
        report,
        push_cpu=(split[1] - start[1], split[2] - start[2]),
        pull_cpu=(end[1] - split[1], end[2] - split[2]),
    )


def sync_key(hub_path: str, name: str) -> str:
    db = store.open_db(hub_path)
    _, key = create_key(db, name=name, scopes=["sync"], rate_limit="10000000/minute")
    db.close()
    return key


def node(path: str) -> Connection:
    identity.init_database(path)
    return store.open_db(path)


def _customer(index: int, now: int, organization: str) -> dict[str, Any]:
    return {
        "id": new_id("cus"),
        "name": f"Customer {index:06d}",
        "external_id": f"crm-{index:06d}",
        "phone": f"+1555{index:07d}",
        "email": f"customer{index:06d}@example.com",
        "tags": ["bench", f"group-{index % 10}"],
        "metadata": {"source": "bench"},
        "organization_id": organization,
        "created_at": now,
        "updated_at": now,
    }


def seed_customers(db: Connection, count: int) -> list[str]:
    """Write `count` customers through the local write path, in a few large transactions."""
    ids: list[str] = []
    organization = store.organization_id(db)
    for start in range(0, count, SEED_TRANSACTION):
        now = wall_ms()
        with store.transaction(db):
            for index in range(start, min(count, start + SEED_TRANSACTION)):
                customer = _customer(index, now, organization)
                store.insert_customer(db, customer)
                ids.append(customer["id"])
    return ids


def change_customers(db: Connection, ids: list[str]) -> None:
    """Edit two fields of each customer, as PATCH /customers/{id} would (one change each)."""
    now = wall_ms()
    with store.transaction(db):
        for index, customer_id in enumerate(ids):
            changes = {"phone": f"+1666{index:07d}", "updated_at": now}
            store.update_customer(db, customer_id, changes)


def raw_copy(source_path: str, target_path: str, count: int) -> float:
    """Seconds to copy the first `count` change rows into a fresh, migrated database file."""
    identity.init_database(target_path)
    target = store.open_db(target_path)
    source = sqlite3.connect(source_path)
    started = time.perf_counter()
    rows = source.execute(
        f"SELECT {_COPY_COLUMNS} FROM change_log ORDER BY seq LIMIT ?", [count]
    ).fetchall()
    with store.transaction(target):
        target.executemany(
            f"INSERT INTO change_log ({_COPY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    elapsed = time.perf_counter() - started
    source.close()
    target.close()
    assert len(rows) == count, (len(rows), count)
    return elapsed


def _customer_count(db: Connection) -> int:
    return store.count_rows(db, "customers")


Row = tuple[str, str, str, str]  # name, value, target, CPU seconds


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _cpu(seconds: tuple[float, float]) -> str:
    node, hub = seconds
    return f"CPU node {node:5.2f} s + hub {hub:5.2f} s"


def _rate_row(
    name: str, count: int, seconds: float, ceiling: float, cpu: tuple[float, float]
) -> Row:
    rate = count / seconds
    share = rate / ceiling
    met = rate >= TARGET_RATE and share >= TARGET_SHARE
    target = f"{share:4.0%} of raw copy; target >= {TARGET_RATE:,}/s, >= {TARGET_SHARE:.0%}"
    # Node and hub take turns, so their CPU seconds added up bound the rate on an idle machine.
    bound = f" (CPU-bound: {count / max(sum(cpu), 1e-9):,.0f}/s)"
    return name, f"{rate:8.0f} changes/s", f"{target} {_mark(met)}", _cpu(cpu) + bound


def _seconds_row(name: str, timing: Timing) -> Row:
    met = timing.total_s < TARGET_INCREMENTAL_S
    target = f"target < {TARGET_INCREMENTAL_S} s {_mark(met)}"
    split = f"push {timing.push_s:.3f} s + pull {timing.pull_s:.3f} s"
    cpu = (timing.push_cpu[0] + timing.pull_cpu[0], timing.push_cpu[1] + timing.pull_cpu[1])
    return name, f"{timing.total_s:8.3f} s", f"{target} ({split})", _cpu(cpu)


def run(folder: Path, say: Callable[[str], None] = lambda _text: None) -> list[Row]:
    """Every measurement; returns the table's rows."""
    hub_path = str(folder / "hub.db")
    identity.init_database(hub_path)
    key_a, key_b = sync_key(hub_path, "bench-node-a"), sync_key(hub_path, "bench-node-b")
    node_a, node_b = node(str(folder / "node-a.db")), node(str(folder / "node-b.db"))

    say(f"seeding {RECORDS:,} customers on node A")
    started = time.perf_counter()
    ids = seed_customers(node_a, RECORDS)
    seed_s = time.perf_counter() - started

    say("raw copy of the change rows (best of 3)")
    copy_s = min(
        raw_copy(str(folder / "node-a.db"), str(folder / f"copy-{i}.db"), RECORDS) for i in range(3)
    )
    ceiling = RECORDS / copy_s

    with LiveServer(hub_path) as hub:
        assert hub.process is not None
        pid = hub.process.pid
        client_a, client_b = HubClient(hub.url, key_a), HubClient(hub.url, key_b)
        say(f"node A pushes {RECORDS:,} changes")
        first = timed_sync(node_a, client_a, pid)
        assert first.report.pushed == RECORDS, first.report
        say(f"node B pulls {RECORDS:,} changes")
        fresh = timed_sync(node_b, client_b, pid)
        assert fresh.report.applied == RECORDS, fresh.report
        assert _customer_count(node_b) == RECORDS

        say(f"{CHANGED:,} customers change on node A")
        change_customers(node_a, ids[:CHANGED])
        again = timed_sync(node_a, client_a, pid)
        assert again.report.pushed == CHANGED, again.report
        follow = timed_sync(node_b, client_b, pid)
        assert follow.report.applied == CHANGED, follow.report
        phone = node_b.execute("SELECT phone FROM customers WHERE id = ?", [ids[0]])
        assert phone.fetchone()[0] == "+16660000000"
    node_a.close()
    node_b.close()

    n = f"{RECORDS // 1000}k" if RECORDS % 1000 == 0 else f"{RECORDS:,}"
    echo = f"{first.report.pulled:,} pulled back, {first.report.applied} applied"
    return [
        ("local writes via upsert_local (seeding)", f"{RECORDS / seed_s:8.0f} changes/s", "", ""),
        (f"raw SQLite copy of {n} change rows", f"{ceiling:8.0f} changes/s", "the ceiling", ""),
        _rate_row(f"push {n}, node -> hub", RECORDS, first.push_s, ceiling, first.push_cpu),
        ("  then the same sync_once's pull", f"{first.pull_s:8.2f} s", echo, _cpu(first.pull_cpu)),
        _rate_row(f"pull {n}, hub -> fresh node", RECORDS, fresh.pull_s, ceiling, fresh.pull_cpu),
        _seconds_row(f"{CHANGED:,} changed: node A sync_once", again),
        _seconds_row(f"{CHANGED:,} changed: node B sync_once", follow),
    ]


def print_table(rows: list[Row]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for name, value, target, cpu in rows:
        print(f"{name:<{widths[0]}}  {value:>{widths[1]}}  {target:<{widths[2]}}  {cpu}".rstrip())


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="booking-sync-bench-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nSync: {RECORDS:,} customers, node in this process, hub `booking serve`, 127.0.0.1 "
        f"(load average {load} on {os.cpu_count()} CPUs)\n"
    )
    started = time.perf_counter()
    try:
        rows = run(folder, say=lambda text: print(f"  ... {text}", flush=True))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print_table(rows)
    print(f"\n(sync benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
