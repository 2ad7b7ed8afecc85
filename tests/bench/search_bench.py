"""The customers' type-ahead search with 50,000 customers: latency through the real server.

50,000 customers with realistic names and German mobile numbers are written through the local
write path; then, over one keep-alive connection, each kind of query a counter types is asked
in turn (a first name's start, a surname, a full name, a phone in three spellings, the start
of a number, and a name nobody has, which reads the whole covering index). p50 and p99 per
kind, and over all of them.

    python -m tests.bench.search_bench     # also the fifth table of `make bench`
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import requests

from app import store
from app.core.ids import new_id
from app.core.times import wall_ms
from app.domain import shop_settings
from tests.bench.servers import bench_key, use_key
from tests.live.server import LiveServer

CUSTOMERS = 50_000
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "200"))  # asks of each kind
FIRST = (
    "Ada",
    "Grace",
    "Alan",
    "Marie",
    "Lena",
    "Jonas",
    "Emma",
    "Noah",
    "Mia",
    "Paul",
    "Sofia",
    "Ben",
    "Hannah",
    "Elias",
    "Lea",
    "Finn",
    "Anna",
    "Luis",
    "Clara",
    "Felix",
)
LAST = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Curie",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
)
TARGET = "Ada Lovelace-Byron"  # one customer, found by each spelling of her number
TARGET_PHONE = "+49 151 2345678"
QUERIES = {
    "first name's start (many match)": "ann",
    "surname (a word inside the name)": "lovelace",
    "full name": "ada lovelace-byron",
    "phone as stored, +49 151 2345678": "+49 151 2345678",
    "phone national, 0151 2345678": "0151 2345678",
    "phone 0049 1512345678": "0049 1512345678",
    "start of a number, 0151 23": "0151 23",
    "a name nobody has (whole index)": "zzyzx",
}


def seed(path: str) -> None:
    rng = random.Random(7)
    db = store.open_db(path)
    shop_settings.update(db, country="DE", clock="24h", first_weekday="mon")
    organization, now = store.organization_id(db), wall_ms()
    with store.transaction(db):
        for index in range(CUSTOMERS):
            name, phone = f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"0160 {index:07d}"
            if index == CUSTOMERS // 2:
                name, phone = TARGET, TARGET_PHONE
            record = {
                "id": new_id("cus"),
                "name": name,
                "phone": phone,
                "tags": [],
                "metadata": {},
                "email": f"c{index}@example.com",
                "organization_id": organization,
                "created_at": now,
                "updated_at": now,
            }
            store.insert_customer(db, record)
    db.execute("ANALYZE")
    db.close()


def measure(server: LiveServer) -> dict[str, list[float]]:
    session = requests.Session()
    session.headers.update(server.headers)
    url = f"{server.url}/modules/booking/customers/search"
    timings: dict[str, list[float]] = {kind: [] for kind in QUERIES}
    for kind, typed in QUERIES.items():  # warm-up, and a check that the target is found
        found = session.get(url, params={"q": typed}, timeout=10).json()["data"]
        assert not kind.startswith(("phone", "full")) or any(c["name"] == TARGET for c in found), (
            kind
        )
    for _ in range(ROUNDS):
        for kind, typed in QUERIES.items():
            started = time.perf_counter()
            response = session.get(url, params={"q": typed}, timeout=10)
            timings[kind].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return timings


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="booking-search-bench-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nCustomer search: {CUSTOMERS:,} customers, {ROUNDS} asks of each kind, one "
        f"keep-alive connection (load average {load} on {os.cpu_count()} CPUs)\n"
    )
    try:
        path = str(folder / "search.db")
        headers = bench_key(path)
        seed(path)
        with LiveServer(path) as server:
            use_key(server, headers)
            timings = measure(server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    width = max(len(kind) for kind in QUERIES)
    print(f"{'query':<{width}}  {'p50 ms':>7}  {'p99 ms':>7}")
    for kind, values in timings.items():
        print(f"{kind:<{width}}  {statistics.median(values):7.2f}  {p99(values):7.2f}")
    every = [value for values in timings.values() for value in values]
    print(f"{'all of them':<{width}}  {statistics.median(every):7.2f}  {p99(every):7.2f}")


if __name__ == "__main__":
    main()
