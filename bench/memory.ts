/**
 * @module bench/memory — 12. resident memory over 100,000 runs: one daemon, 2,000 no-op jobs on
 * "* * * * * *" (overlap allow); after 10,000 runs of warm-up its RSS is read after a settled GC,
 * and again once 100,000 more runs are final. What a long-lived daemon keeps per run shows as growth.
 */
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { rssBytes } from "./lib/proc.ts";
import { count, mb } from "./lib/stats.ts";
import { BenchWorkspace, type BenchDaemon } from "./lib/workspace.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

const JOBS = 2000;
const WARMUP_RUNS = 10_000;
const RUNS = 100_000;
const QUICK_RUNS = 20_000;
const TARGET_MB = 5;

/** RSS once collection has settled: two full GCs a second apart (the second frees what the first's finalizers let go). */
async function settledRss(
  daemon: BenchDaemon,
): Promise<{ rss: number; heapUsed: number; heapTotal: number; external: number }> {
  await daemon.gc();
  await sleep(1000);
  const heap = await daemon.gc();
  await sleep(200);
  return { rss: rssBytes(daemon.pid) ?? 0, ...heap };
}

async function untilRuns(db: Database.Database, runs: number, deadline: number): Promise<number> {
  const done = db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE status = 'succeeded'`);
  for (;;) {
    const n = (done.get() as { n: number }).n;
    if (n >= runs || Date.now() > deadline) return n;
    await sleep(1000);
  }
}

export async function memory(options: BenchOptions): Promise<Section> {
  const runs = options.quick ? QUICK_RUNS : RUNS;
  const ws = new BenchWorkspace("memory");
  try {
    ws.writeSchedules({
      maxConcurrentRuns: 10_000,
      jobs: Array.from({ length: JOBS }, (_, i) => ({
        id: `job-${i}`,
        skill: "noop",
        cron: "* * * * * *",
        overlap: "allow",
      })),
    });
    const daemon = await ws.start();
    const db = new Database(ws.dbFile, { readonly: true });
    db.pragma("busy_timeout = 5000");
    let warm: number;
    let before: { rss: number; heapUsed: number; heapTotal: number; external: number };
    let done: number;
    let after: { rss: number; heapUsed: number; heapTotal: number; external: number };
    const started = Date.now();
    try {
      warm = await untilRuns(db, WARMUP_RUNS, Date.now() + 120_000);
      before = await settledRss(daemon);
      options.log(
        `  after ${count(warm)} runs (warm-up): rss ${mb(before.rss)}, heap ${mb(before.heapUsed)} of ${mb(before.heapTotal)}`,
      );
      done = (await untilRuns(db, warm + runs, Date.now() + 300_000)) - warm;
      after = await settledRss(daemon);
      options.log(
        `  after ${count(done)} more runs: rss ${mb(after.rss)} (${mb(after.rss - before.rss)} more), heap ${mb(after.heapUsed)} of ${mb(after.heapTotal)}`,
      );
    } finally {
      db.close();
    }
    const seconds = (Date.now() - started) / 1000;
    await daemon.stop();
    const statuses = ws
      .query<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM runs GROUP BY status`)
      .map((r) => `${count(r.n)} ${r.status}`)
      .join(", ");
    const growth = after.rss - before.rss;
    return {
      id: 12,
      title: "Resident memory over 100,000 runs (one daemon)",
      method:
        `${count(JOBS)} no-op jobs on \`* * * * * *\` with \`overlap: "allow"\` in one fresh daemon. Once ${count(WARMUP_RUNS)} runs have succeeded ` +
        `(warm-up: code compiled, caches and pools at their size), the daemon's RSS is read from /proc after two forced full GCs a second apart; ` +
        `again after ${count(runs)} more runs have succeeded. Growth = the second − the first.`,
      figures: [
        { figure: "RSS after warm-up, GC settled", sundial: mb(before.rss) },
        { figure: `RSS after ${count(done)} more runs, GC settled`, sundial: mb(after.rss) },
        {
          figure: "V8 heap used / heap committed / external, after warm-up → after the runs",
          sundial: `${mb(before.heapUsed)} / ${mb(before.heapTotal)} / ${mb(before.external)} → ${mb(after.heapUsed)} / ${mb(after.heapTotal)} / ${mb(after.external)}`,
        },
        {
          figure: `growth over ${count(done)} runs`,
          sundial: mb(growth),
          target: `< ${TARGET_MB} MB over ${count(runs)}`,
          before: "not measured",
          pass: done >= runs && growth < TARGET_MB * 1024 * 1024,
        },
      ],
      notes: [
        `Rows in the ledger at the end: ${statuses} (missed rows: slots the daemon reached more than a second late on this machine).`,
        `Warm-up plus measured runs took ${seconds.toFixed(0)} s.`,
        ...(options.quick ? [`--quick: ${count(QUICK_RUNS)} runs instead of ${count(RUNS)}.`] : []),
      ],
    };
  } finally {
    ws.cleanup();
  }
}
