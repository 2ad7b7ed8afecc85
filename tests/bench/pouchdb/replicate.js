// The PouchDB reference of `make bench` (tests/bench/booking_sync_bench.py runs it).
//
//   node replicate.js FOLDER COUNT
//
// Writes COUNT booking documents (a booking's fields and its two events, one document each)
// into a LevelDB PouchDB with bulkDocs, then replicates them to an empty one in the same
// process, as PouchDB's replicator does between two databases: no HTTP, so this is the best
// case for PouchDB. Prints one JSON line: {"docs": COUNT, "seconds": the replication's wall
// time, "cpu_seconds": the CPU time the process spent on it, LevelDB's threads included}.
"use strict";

const path = require("path");
const PouchDB = require("pouchdb");

const BATCH = 1000;

function bookingDoc(index) {
  const start = Date.UTC(2030, 0, 1) + index * 3 * 3600 * 1000;
  const event = (type, to) => ({
    id: `evt-${index}-${type}`,
    type,
    to_status: to,
    actor: "bench",
    occurred_at: start - 86400000,
  });
  return {
    _id: `bk-${String(index).padStart(8, "0")}`,
    resource_id: `res-${index % 20}`,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + 3600000).toISOString(),
    status: "confirmed",
    title: `Booking ${index}`,
    metadata: { source: "bench" },
    events: [event("created", "pending"), event("status_changed", "confirmed")],
  };
}

async function main() {
  const [folder, countText] = process.argv.slice(2);
  const count = Number(countText);
  const source = new PouchDB(path.join(folder, "source"));
  const target = new PouchDB(path.join(folder, "target"));
  for (let first = 0; first < count; first += BATCH) {
    const docs = [];
    for (let index = first; index < Math.min(count, first + BATCH); index++) {
      docs.push(bookingDoc(index));
    }
    await source.bulkDocs(docs);
  }
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const result = await source.replicate.to(target, { batch_size: 500, batches_limit: 10 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.docs_written !== count) {
    throw new Error(`replicated ${result.docs_written} of ${count} documents`);
  }
  await source.close();
  await target.close();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(JSON.stringify({ docs: count, seconds, cpu_seconds: cpuSeconds }));
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
