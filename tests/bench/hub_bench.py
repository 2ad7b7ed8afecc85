"""`make bench`: the hub on PostgreSQL beside the hub on SQLite, and bookings beside PouchDB.

Everything runs in one go, so the ratios compare like with like on a shared machine:

- 100k changes (customers written through the local write path) pushed by one node and
  pulled by a fresh one, against a SQLite hub and a PostgreSQL hub;
- 100k bookings with two events each, the same way (tests/bench/booking_sync_bench.py), and
  PouchDB replicating as many booking documents (tests/bench/pouchdb_reference.py);
- 20 laptops syncing at once (tests/bench/laptops.py) against the SQLite hub (one process,
  as a SQLite hub runs), then a PostgreSQL hub of one and of two `booking serve` processes;
  the cores the laptops and the hub used in the window show what bounds the rate.

The PostgreSQL server is a throw-away one (tests/postgres.py, as the tests start), set to the
durability the SQLite hub has: WAL flushed in the background (synchronous_commit off, the
counterpart of synchronous=NORMAL), fsync and full-page writes on. Hub CPU is the CPU seconds
of the `booking serve` processes, plus the PostgreSQL server's own processes for that hub.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sync import identity
from sync.client import HubClient
from tests.bench import booking_sync_bench, laptops, pouchdb_reference
from tests.bench.servers import SECONDS
from tests.bench.sync_bench import (
    RECORDS,
    node,
    print_table,
    seed_customers,
    sync_key,
    timed_sync,
)
from tests.live.server import LiveServer
from tests.postgres import ThrowawayServer

LAPTOP_SECONDS = float(os.environ.get("BENCH_LAPTOP_SECONDS", str(max(10.0, 2 * SECONDS))))
_DURABLE_AS_SQLITE = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "off"}
TARGET_LAPTOPS = 1.5  # PostgreSQL with 2 processes against the SQLite hub
TARGET_SINGLE = 0.60  # any one-node figure, PostgreSQL against SQLite
TARGET_POUCHDB = 4.0  # bookings per second against PouchDB's documents per second


def _ticks(pid: int, *, children: bool = False) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks + (int(fields[13]) + int(fields[14]) if children else 0)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found.extend(int(child) for child in (task / "children").read_text().split())
    return found


class Hub:
    """A hub database and the `booking serve` processes serving it."""

    def __init__(self, target: str, servers: list[LiveServer], postmaster: int | None) -> None:
        self.target, self.servers, self.postmaster = target, servers, postmaster

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def cpu_seconds(self) -> float:
        """CPU the hub's processes used so far: its servers and, on PostgreSQL, the server's
        processes (ended ones are counted in the postmaster's children's time)."""
        pids = [server.process.pid for server in self.servers if server.process]
        ticks = sum(_ticks(pid) for pid in pids)
        if self.postmaster is not None:
            ticks += _ticks(self.postmaster, children=True)
            for pid in _children(self.postmaster):
                with contextlib.suppress(OSError):  # it may end between the listing and here
                    ticks += _ticks(pid)
        return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _hub(target: str, processes: int, postmaster: int | None, logs: Path) -> Iterator[Hub]:
    identity.init_database(target)
    # A PostgreSQL URL has no folder to keep logs and backups beside. Each hub keeps serve's
    # own worker threads: 1 on a SQLite file, 4 on PostgreSQL (README § Several hub processes).
    env = {"BOOKING_LOG_DIR": str(logs / "logs"), "BOOKING_BACKUP_DIR": str(logs / "backups")}
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(LiveServer(target, env=env)) for _ in range(processes)]
        yield Hub(target, servers, postmaster)


@dataclass
class Figure:
    """One direction's rate, and the CPU seconds behind it (the node's and the hub's)."""

    count: int
    seconds: float
    cpu: tuple[float, float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_us(self) -> float:
        """Node and hub CPU per item: they take turns, so this bounds the rate when idle."""
        return sum(self.cpu) / self.count * 1e6


def _customers(hub: Hub, folder: Path, name: str) -> tuple[Figure, Figure]:
    node_a, node_b = node(str(folder / f"{name}-a.db")), node(str(folder / f"{name}-b.db"))
    seed_customers(node_a, RECORDS)
    key_a, key_b = sync_key(hub.target, f"{name}-a"), sync_key(hub.target, f"{name}-b")
    pushed = timed_sync(node_a, HubClient(hub.urls[0], key_a), hub_cpu=hub.cpu_seconds)
    pulled = timed_sync(node_b, HubClient(hub.urls[0], key_b), hub_cpu=hub.cpu_seconds)
    assert pushed.report.pushed == RECORDS and pulled.report.applied == RECORDS
    node_a.close()
    node_b.close()
    return (
        Figure(RECORDS, pushed.push_s, pushed.push_cpu),
        Figure(RECORDS, pulled.pull_s, pulled.pull_cpu),
    )


def _bookings(hub: Hub, folder: Path, name: str) -> tuple[Figure, Figure]:
    node_a = booking_sync_bench.seeded_node(folder / f"{name}-bookings-a.db")
    measured = booking_sync_bench.run(
        hub.urls[0], hub.target, node_a, folder, name, hub.cpu_seconds
    )
    node_a.close()
    count = measured.bookings
    return (
        Figure(count, measured.push.push_s, measured.push.push_cpu),
        Figure(count, measured.pull.pull_s, measured.pull.pull_cpu),
    )


def _laptops(hub: Hub, folder: Path) -> tuple[laptops.Laptops, float]:
    before = hub.cpu_seconds()
    measured = laptops.run(hub.urls, hub.target, folder, LAPTOP_SECONDS)
    return measured, hub.cpu_seconds() - before


def _postgres() -> ThrowawayServer:
    server = ThrowawayServer().start()
    with server.admin() as admin:
        for name, value in _DURABLE_AS_SQLITE.items():
            admin.execute(f"ALTER SYSTEM SET {name} = {value}")
        admin.execute("SELECT pg_reload_conf()")
    return server


def _postmaster(server: ThrowawayServer) -> int:
    return int((server.data / "postmaster.pid").read_text().split()[0])


def run(folder: Path, say: Callable[[str], None]) -> list[tuple[str, str, str, str]]:
    postgres = _postgres()
    logs = folder / "logs"
    try:
        postmaster = _postmaster(postgres)
        hubs = {
            "SQLite": lambda n: _hub(str(folder / f"hub-{n}.db"), 1, None, logs),
            "PostgreSQL": lambda n: _hub(
                postgres.create_database(name=f"hub_{n}"), 1, postmaster, logs
            ),
        }
        figures: dict[tuple[str, str], Figure] = {}
        for kind, make in hubs.items():
            say(f"{RECORDS:,} changes through the {kind} hub")
            with make("customers") as hub:
                push, pull = _customers(hub, folder, f"{kind}-customers")
            figures[kind, "push changes"], figures[kind, "pull changes"] = push, pull
            say(f"{booking_sync_bench.BOOKINGS:,} bookings through the {kind} hub")
            with make("bookings") as hub:
                push, pull = _bookings(hub, folder, f"{kind}-bookings")
            figures[kind, "push bookings"], figures[kind, "pull bookings"] = push, pull
        say(f"PouchDB replicates {booking_sync_bench.BOOKINGS:,} booking documents")
        pouch = pouchdb_reference.replicate(booking_sync_bench.BOOKINGS)
        crowds = {}
        for label, kind, processes, target in (
            ("SQLite, 1 process", "SQLite", 1, str(folder / "hub-laptops.db")),
            ("PostgreSQL, 1 process", "PostgreSQL", 1, "laptops_1"),
            ("PostgreSQL, 2 processes", "PostgreSQL", 2, "laptops_2"),
        ):
            say(f"{laptops.LAPTOPS} laptops against the hub on {label}")
            if kind == "PostgreSQL":
                target = postgres.create_database(name=target)
            server = postmaster if kind == "PostgreSQL" else None
            with _hub(target, processes, server, logs) as hub:
                place = folder / label.replace(", ", "-").replace(" ", "_")
                place.mkdir()
                crowds[label] = _laptops(hub, place)
    finally:
        postgres.destroy()
    return _rows(figures, pouch, crowds)


def _rows(figures, pouch, crowds) -> list[tuple[str, str, str, str]]:
    rows = []
    n, b = f"{RECORDS // 1000}k", f"{booking_sync_bench.BOOKINGS // 1000}k"
    for what, label, unit in (
        ("push changes", f"push {n} changes, node -> hub", "changes/s"),
        ("pull changes", f"pull {n} changes, hub -> fresh node", "changes/s"),
        ("push bookings", f"push {b} bookings (2 events each)", "bookings/s"),
        ("pull bookings", f"pull {b} bookings", "bookings/s"),
    ):
        lite, pg = figures["SQLite", what], figures["PostgreSQL", what]
        ratio = pg.rate / lite.rate
        met = "ok" if ratio >= TARGET_SINGLE else "MISSED"
        rows.append(
            (
                label,
                f"{lite.rate:7,.0f} | {pg.rate:7,.0f} {unit}",
                f"PG {ratio:4.0%} of SQLite (>= {TARGET_SINGLE:.0%} {met})",
                f"CPU node+hub {lite.cpu_us:4.0f} | {pg.cpu_us:4.0f} µs each",
            )
        )
    pouch_us = pouch.cpu_seconds / pouch.docs * 1e6
    rows.append(
        (
            f"PouchDB replication of {b} booking documents",
            f"{pouch.rate:7,.0f} docs/s",
            "LevelDB to LevelDB in one Node process",
            f"CPU {pouch_us:4.0f} µs a document",
        )
    )
    for what in ("push bookings", "pull bookings"):
        lite = figures["SQLite", what]
        ratio = lite.rate / pouch.rate
        met = "ok" if ratio >= TARGET_POUCHDB else "MISSED"
        rows.append(
            (
                f"  SQLite hub's {what.split()[0]} per booking / PouchDB's per document",
                f"{ratio:5.2f}x",
                f"target >= {TARGET_POUCHDB:.0f}x {met}",
                f"by CPU: {pouch_us / lite.cpu_us:4.2f}x",
            )
        )
    base = crowds["SQLite, 1 process"][0]
    for label, (measured, cpu) in crowds.items():
        ratio = measured.rate / base.rate
        slowest = min(measured.per_laptop) / min(base.per_laptop)
        note = f"{ratio:4.2f}x of SQLite; slowest laptop {slowest:4.0%} of SQLite's"
        if label == "PostgreSQL, 2 processes":
            met = "ok" if ratio >= TARGET_LAPTOPS else "MISSED"
            note += f" (target >= {TARGET_LAPTOPS}x {met})"
        rows.append(
            (
                f"{laptops.LAPTOPS} laptops, hub on {label}",
                f"{measured.rate:7,.0f} changes/s, p99 {measured.percentile(99) * 1000:5.0f} ms",
                note,
                f"hub CPU {cpu:5.1f} s in {measured.seconds:4.1f} s = "
                f"{cpu / (measured.pushed + measured.pulled) * 1e6:3.0f} µs a change; "
                f"cores used: laptops {measured.cpu / measured.seconds:3.1f}, "
                f"hub {cpu / measured.seconds:3.1f}",
            )
        )
    return rows


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="booking-hub-bench-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nHub backends: SQLite | PostgreSQL, one run (load average {load} on "
        f"{os.cpu_count()} CPUs)\n"
    )
    started = time.perf_counter()
    try:
        rows = run(folder, say=lambda text: print(f"  ... {text}", flush=True))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print_table(rows)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n(hub benchmark took {time.perf_counter() - started:.0f} s; load average now {load})")


if __name__ == "__main__":
    main()
