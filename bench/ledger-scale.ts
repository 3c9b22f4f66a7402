/**
 * @module bench/ledger-scale — 6. the ledger at scale: 1,000,000 runs (with their steps and some
 * deliveries) written into the real schema in one transaction; then `runs --limit 50 --json` and
 * `show <id> --json` from cold processes, the same queries timed inside through the RunStore,
 * the per-run queries the runner makes at each start, and the database's size.
 */
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { openSqliteStore } from "../src/ledger/sqlite.ts";
import type { RunStore } from "../src/ledger/store.ts";
import { fillLedger, RUNS } from "./lib/fill-ledger.ts";
import { count, mb, median, ms } from "./lib/stats.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import type { BenchOptions, Figure, Section } from "./lib/section.ts";

const TARGET_MS = 20;

/** Wall time of one CLI command in a fresh process; checks it printed the JSON it should. */
async function cli(ws: BenchWorkspace, args: string[]): Promise<number> {
  const result = await ws.runCli(args);
  if (result.code !== 0)
    throw new Error(`sundial ${args.join(" ")} exited ${result.code}: ${result.stderr.slice(0, 500)}`);
  JSON.parse(result.stdout);
  return result.ms;
}

/** First call and median of the next ones, in ms. */
async function timed(fn: () => Promise<unknown>, repeats = 20): Promise<{ first: number; median: number }> {
  let started = performance.now();
  await fn();
  const first = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return { first, median: median(times) };
}

export async function ledgerScale(options: BenchOptions): Promise<Section> {
  const ws = new BenchWorkspace("ledger");
  try {
    ws.writeSchedules({ jobs: [] });
    openSqliteStore(ws.dbFile).close();
    const emptyCli = await cli(ws, ["runs", "--limit", "50", "--json"]);
    const db = new Database(ws.dbFile);
    const fill = fillLedger(db);
    db.close();
    options.log(`  ${count(RUNS)} runs, ${count(fill.steps)} steps written in ${ms(fill.ms)}`);
    const size = statSync(ws.dbFile).size;
    const middle = Math.floor(RUNS / 2);
    const runsCli = [
      await cli(ws, ["runs", "--limit", "50", "--json"]),
      await cli(ws, ["runs", "--limit", "50", "--json"]),
    ];
    const showCli = [
      await cli(ws, ["show", String(middle), "--json"]),
      await cli(ws, ["show", String(RUNS), "--json"]),
    ];
    const store: RunStore = openSqliteStore(ws.dbFile);
    type Timing = { first: number; median: number };
    let inside: Record<"list" | "listJob" | "listStatus" | "show" | "lastSuccess" | "previous", Timing>;
    try {
      inside = {
        list: await timed(() => store.listRuns({ limit: 50 })),
        listJob: await timed(() => store.listRuns({ job: "job-7", limit: 50 })),
        listStatus: await timed(() => store.listRuns({ status: "failed", limit: 50 })),
        show: await timed(() => store.getRun(middle)),
        lastSuccess: await timed(() => store.lastSuccessAt("job-7")),
        previous: await timed(() => store.previousOutcome("job-7", RUNS + 1)),
      };
    } finally {
      store.close();
    }
    const worstInside = Math.max(inside.list.first, inside.show.first, inside.listJob.first, inside.listStatus.first);
    options.log(
      `  runs cli ${ms(median(runsCli))}, show cli ${ms(median(showCli))}, inside: list ${ms(inside.list.first)}, show ${ms(inside.show.first)}, lastSuccessAt ${ms(inside.lastSuccess.median)}`,
    );
    const row = (figure: string, t: { first: number; median: number }, target?: boolean): Figure => ({
      figure,
      sundial: `${ms(t.first)} first, ${ms(t.median)} median`,
      ...(target ? { target: `< ${TARGET_MS} ms`, pass: t.first < TARGET_MS } : {}),
    });
    return {
      id: 6,
      title: "Ledger at scale (1,000,000 runs)",
      method:
        `${count(RUNS)} runs over ${fill.jobs} jobs (${fill.mix}), ${count(fill.steps)} steps and ${count(fill.deliveries)} deliveries, inserted with ` +
        `better-sqlite3 in one transaction into the schema \`openSqliteStore\` creates. CLI figures are wall time of a fresh \`node bin/sundial.js …\` process ` +
        `(tsx, module loading and the query); "inside" times the RunStore call in an open process (first call, and median of 20 more).`,
      figures: [
        {
          figure: "`runs --limit 50 --json`, cold process",
          sundial: `${ms(median(runsCli))} (empty ledger: ${ms(emptyCli)})`,
        },
        { figure: "`show <id> --json`, cold process", sundial: ms(median(showCli)) },
        row("listRuns({ limit: 50 }) inside", inside.list, true),
        row("listRuns({ job, limit: 50 }) inside", inside.listJob, true),
        row("listRuns({ status: failed, limit: 50 }) inside", inside.listStatus, true),
        row("getRun(id) inside (show)", inside.show, true),
        row(`lastSuccessAt(job) — every run start (${count(RUNS / fill.jobs)} rows/job)`, inside.lastSuccess),
        row("previousOutcome(job) — every success", inside.previous),
        { figure: "database size", sundial: mb(size) },
        { figure: "time to write the 1,000,000 runs (one transaction)", sundial: ms(fill.ms) },
      ],
      notes: [`Slowest first query inside: ${ms(worstInside)}.`],
    };
  } finally {
    ws.cleanup();
  }
}
