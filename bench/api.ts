/**
 * @module bench/api — 8. the operator API at scale: `GET /api/v1/runs` of a real daemon whose
 * ledger holds 1,000,000 runs (the same fill as benchmark 6): the first page, a page filtered by
 * job, by status, by both, and a page deep in the ledger through the `before` cursor. Timed from
 * the request to the last byte over loopback (keep-alive), so it bounds the server's time from above.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqliteStore } from "../src/ledger/sqlite.ts";
import { fillLedger, RUNS } from "./lib/fill-ledger.ts";
import { count, median, ms } from "./lib/stats.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import type { BenchOptions, Figure, Section } from "./lib/section.ts";

const TARGET_MS = 50;
const TOKEN = "bench-operator-token";

export async function apiScale(options: BenchOptions): Promise<Section> {
  const ws = new BenchWorkspace("api");
  try {
    // Kept long enough that the daemon's start-up prune leaves the million rows alone.
    ws.writeSchedules({ retention: "36500d", jobs: [] });
    openSqliteStore(ws.dbFile).close();
    const db = new Database(ws.dbFile);
    const fill = fillLedger(db);
    db.close();
    options.log(`  ${count(RUNS)} runs written in ${ms(fill.ms)}`);
    const daemon = await ws.start({ SUNDIAL_HTTP_PORT: "0", SUNDIAL_API_TOKEN: TOKEN, LOG_LEVEL: "info" });
    try {
      // The daemon says where it listens (port 0 picked a free one).
      const { url } = JSON.parse(readFileSync(join(ws.dataDir, "daemon.json"), "utf8")) as { url: string };
      const get = async (path: string): Promise<number> => {
        const started = performance.now();
        const response = await fetch(`${url}/api/v1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const body = (await response.json()) as { runs?: unknown[] };
        const took = performance.now() - started;
        if (response.status !== 200 || !Array.isArray(body.runs))
          throw new Error(`GET ${path} answered ${response.status}`);
        return took;
      };
      const timed = async (path: string) => {
        const first = await get(path);
        const times: number[] = [];
        for (let i = 0; i < 20; i++) times.push(await get(path));
        return { first, median: median(times) };
      };
      const deep = Math.floor(RUNS / 2);
      const results = {
        first: await timed("/runs?limit=50"),
        job: await timed("/runs?job=job-7&limit=50"),
        status: await timed("/runs?status=failed&limit=50"),
        both: await timed("/runs?job=job-7&status=failed&limit=50"),
        deep: await timed(`/runs?limit=50&before=${deep}`),
        max: await timed("/runs?limit=500"),
      };
      options.log(
        `  first page ${ms(results.first.first)} first / ${ms(results.first.median)} median; deep page ${ms(results.deep.median)}; 500 rows ${ms(results.max.median)}`,
      );
      const row = (figure: string, t: { first: number; median: number }, target = true): Figure => ({
        figure,
        sundial: `${ms(t.first)} first, ${ms(t.median)} median`,
        ...(target ? { target: `< ${TARGET_MS} ms`, pass: t.median < TARGET_MS } : {}),
      });
      return {
        id: 8,
        title: "Operator API at scale (GET /api/v1/runs, 1,000,000 runs)",
        method:
          `The ledger of benchmark 6 (${count(RUNS)} runs) behind a real daemon (\`sundial start\`); each request timed from fetch() to the parsed JSON over ` +
          "loopback with keep-alive (an upper bound of the server's time): the first call, then the median of 20. Paging is by cursor (`before=<run id>`), index-backed.",
        figures: [
          row("`/runs?limit=50` (first page)", results.first),
          row("`/runs?job=…&limit=50`", results.job),
          row("`/runs?status=failed&limit=50`", results.status),
          row("`/runs?job=…&status=failed&limit=50`", results.both),
          row(`\`/runs?limit=50&before=${count(deep)}\` (a page half-way down)`, results.deep),
          row("`/runs?limit=500` (the largest page)", results.max, false),
        ],
        notes: [],
      };
    } finally {
      await daemon.stop();
    }
  } finally {
    ws.cleanup();
  }
}
