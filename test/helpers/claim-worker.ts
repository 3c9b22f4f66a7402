/**
 * @module claim-worker — one process of `test/ledger/claims-across-processes.test.ts`: opens the
 * ledger on its own connection, says it is ready (`<db file>.ready-<index>`), waits for the go
 * (`<db file>.go`, made once every worker is ready, so a slow start on a loaded machine cannot make
 * one process run alone), then claims every slot of two jobs in small batches (as scheduled or as
 * catch-up runs, mixed). Each process starts on its own quarter of the
 * slots and wraps around, so the processes meet on every slot whichever one starts first, and a
 * process that starts a few milliseconds late still meets the others. It prints how many slots it
 * won and when it started and ended claiming.
 *
 *   node --import tsx test/helpers/claim-worker.ts <db file> <worker index> <unused> <slots>
 */
import { existsSync, writeFileSync } from "node:fs";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import type { RunClaim } from "../../src/ledger/store.ts";

const [file, indexText, startText, slotsText] = process.argv.slice(2);
const index = Number(indexText);
const slots = Number(slotsText);
const store = openSqliteStore(file as string);
const owner = { pid: process.pid, instance: `worker-${index}` };

void startText;
writeFileSync(`${file}.ready-${index}`, "");
// Polled tightly: the workers must leave the barrier within a millisecond of each other.
while (!existsSync(`${file}.go`)) await new Promise((done) => setTimeout(done, 1));

let won = 0;
const started = Date.now();
const batch = 1 + (index % 3);
const offset = Math.floor((index * slots) / 4);
for (let first = 0; first < slots; first += batch) {
  const claims: RunClaim[] = [];
  for (let step = first; step < Math.min(slots, first + batch); step++) {
    const slot = (step + offset) % slots;
    // The same slot is claimed as "schedule" by some processes and "catchup" by others, as a
    // daemon waking late and one on time would.
    const trigger = (slot + index) % 2 === 0 ? "schedule" : "catchup";
    claims.push({ job: "allow", skill: "s", scheduledFor: slot * 1000, trigger, overlap: "allow" });
    claims.push({ job: "skip", skill: "s", scheduledFor: slot * 1000, trigger, overlap: "skip" });
  }
  const results = await store.claimRuns(claims, owner, Date.now(), 1_000_000);
  won += results.filter((result) => result.status !== "duplicate").length;
}
const ended = Date.now();
store.close();
process.stdout.write(JSON.stringify({ won, started, ended }));
