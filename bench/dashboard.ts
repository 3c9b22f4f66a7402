/**
 * @module bench/dashboard — 9. the dashboard over 1,000,000 runs: server time of the runs page
 * (newest, filtered by job and by status, a page deep in the history through `before`) and of a
 * run's page, rendered by the dashboard's hono app in process (no socket: the figure is the
 * server's own time); and the overview's weight, HTML + CSS + JS bytes, with no framework.
 */
import Database from "better-sqlite3";
import { dashboardRoutes } from "../src/http/dashboard/index.ts";
import { sessionValue } from "../src/http/dashboard/session.ts";
import { openSqliteStore } from "../src/ledger/sqlite.ts";
import { storeControls, type JobSpec } from "../test/helpers/store-controls.ts";
import { fillLedger, RUNS } from "./lib/fill-ledger.ts";
import { count, median, ms } from "./lib/stats.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import type { BenchOptions, Figure, Section } from "./lib/section.ts";

const TARGET_MS = 50;
const TARGET_KB = 100;

export async function dashboard(options: BenchOptions): Promise<Section> {
  const ws = new BenchWorkspace("dashboard");
  try {
    openSqliteStore(ws.dbFile).close();
    const db = new Database(ws.dbFile);
    const fill = fillLedger(db);
    db.close();
    options.log(`  ${count(RUNS)} runs written in ${ms(fill.ms)}`);
    const store = openSqliteStore(ws.dbFile);
    const jobs: JobSpec[] = Array.from({ length: fill.jobs }, (_, i) => ({
      id: `job-${i}`,
      skill: i % 2 ? "data-digest" : "blog-autopilot",
      cron: "0 8 * * 1-5",
      timezone: "Europe/Paris",
      enabled: true,
    }));
    const controls = storeControls(store, jobs);
    const token = "bench-token";
    const app = dashboardRoutes({
      controls,
      token,
      health: async () => ({ status: "ok", scheduler: "alive", ledger: "writable" }),
    });
    const headers = { cookie: `sundial_session=${sessionValue(token)}` };
    const get = async (path: string) => {
      const response = await app.request(path, { headers });
      if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
      return response.text();
    };
    const repeats = options.quick ? 5 : 20;
    const timed = async (path: string) => {
      let started = performance.now();
      await get(path);
      const first = performance.now() - started;
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) {
        started = performance.now();
        await get(path);
        times.push(performance.now() - started);
      }
      return { first, median: median(times) };
    };
    const middle = Math.floor(RUNS / 2);
    try {
      const pages = {
        newest: await timed("/runs"),
        job: await timed("/runs?job=job-7"),
        status: await timed("/runs?status=failed"),
        deep: await timed(`/runs?before=${middle}`),
        deepJobStatus: await timed(`/runs?job=job-7&status=failed&before=${middle}`),
        run: await timed(`/runs/${middle}`),
      };
      let started = performance.now();
      const overviewHtml = await get("/");
      const overviewMs = performance.now() - started;
      started = performance.now();
      await get("/jobs");
      const jobsMs = performance.now() - started;
      const css = await (await app.request("/assets/app.css")).text();
      const js = await (await app.request("/assets/app.js")).text();
      const bytes = (text: string) => Buffer.byteLength(text);
      const weight = bytes(overviewHtml) + bytes(css) + bytes(js);
      options.log(
        `  runs page ${ms(pages.newest.first)} first, overview ${ms(overviewMs)}, weight ${(weight / 1024).toFixed(1)} KB`,
      );
      const row = (figure: string, t: { first: number; median: number }): Figure => ({
        figure,
        sundial: `${ms(t.first)} first, ${ms(t.median)} median`,
        target: `< ${TARGET_MS} ms`,
        pass: t.median < TARGET_MS,
      });
      return {
        id: 9,
        title: "Dashboard (1,000,000 runs)",
        method:
          `The ledger of benchmark 6 (${count(RUNS)} runs over ${fill.jobs} jobs). Each page is requested from the dashboard's hono app in process, signed in, ` +
          `and timed until its HTML is complete (first request, and median of ${repeats} more; the verdict is on the median, since the first also fills the 10 s job-id cache and prepares statements). The runs page shows 50 runs and the job filter's ${fill.jobs} jobs (ids cached 10 s); ` +
          `paging is by \`before=<run id>\` (an indexed range), never OFFSET. Controls are the test double over the real store (test/helpers/store-controls.ts).`,
        figures: [
          row("runs page, newest 50", pages.newest),
          row("runs page, one job", pages.job),
          row("runs page, status failed", pages.status),
          row(`runs page, before=${count(middle)}`, pages.deep),
          row("runs page, job + status + before", pages.deepJobStatus),
          row("a run's page (steps, timeline, deliveries)", pages.run),
          {
            figure: "overview weight (HTML + CSS + JS)",
            sundial: `${(weight / 1024).toFixed(1)} KB (HTML ${(bytes(overviewHtml) / 1024).toFixed(1)}, CSS ${(bytes(css) / 1024).toFixed(1)}, JS ${(bytes(js) / 1024).toFixed(1)})`,
            target: `< ${TARGET_KB} KB`,
            pass: weight < TARGET_KB * 1024,
          },
          { figure: "overview server time (30 days of runs read, capped at 5,000)", sundial: ms(overviewMs) },
          { figure: "jobs page server time (100 jobs, streaks)", sundial: ms(jobsMs) },
        ],
        notes: [
          "No framework and no font is downloaded: one stylesheet and one small script, both served by the daemon.",
        ],
      };
    } finally {
      controls.close();
      store.close();
    }
  } finally {
    ws.cleanup();
  }
}
