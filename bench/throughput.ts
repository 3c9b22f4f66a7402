/**
 * @module bench/throughput — 3. sustained throughput: no-op runs offered at a steady rate (N jobs
 * on "* * * * * *", overlap allow, no concurrency cap that matters) — 1,500 a second (the first
 * round's test, target 1,000 done) and 5,000 a second (target: all 5,000 done); after a warm-up,
 * the runs of 10 consecutive seconds are followed to their final rows and the succeeded ones counted.
 */
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { cpuMs } from "./lib/proc.ts";
import { count, ms } from "./lib/stats.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

const WARMUP_MS = 4000;
const WINDOW_S = 10;
/** Offered per second → succeeded per second needed. */
const LEVELS = [
  { offered: 1500, target: 1000 },
  { offered: 5000, target: 5000 },
];

interface Window {
  byStatus: Map<string, number>;
  cpuUsed: number;
  /** From the first slot of the window to the last finished_at of its rows. */
  spanMs: number;
}

async function measure(ws: BenchWorkspace, pid: number, offered: number): Promise<Window> {
  const db = new Database(ws.dbFile, { readonly: true });
  try {
    db.pragma("busy_timeout = 5000");
    await sleep(WARMUP_MS);
    const first = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const end = first + WINDOW_S * 1000;
    await sleep(first - 200 - Date.now());
    const cpuBefore = cpuMs(pid);
    const rows = db.prepare(
      `SELECT status, COUNT(*) AS n, SUM(finished_at IS NULL) AS open, MAX(finished_at) AS last FROM runs WHERE scheduled_for >= ? AND scheduled_for < ? GROUP BY status`,
    );
    // Every slot of the window has its row and every row is final (or 20 s have passed).
    for (const deadline = end + 20_000; ;) {
      await sleep(250);
      const list = rows.all(first, end) as { status: string; n: number; open: number; last: number | null }[];
      const total = list.reduce((sum, r) => sum + r.n, 0);
      const open = list.reduce((sum, r) => sum + r.open, 0);
      if ((Date.now() > end && total >= offered * WINDOW_S && open === 0) || Date.now() > deadline) {
        return {
          byStatus: new Map(list.map((r) => [r.status, r.n])),
          cpuUsed: cpuMs(pid) - cpuBefore,
          spanMs: Math.max(...list.map((r) => r.last ?? 0)) - first,
        };
      }
    }
  } finally {
    db.close();
  }
}

interface Level {
  offered: number;
  target: number;
  perSecond: number;
  cpuPerRun: number;
  others: string;
  spanMs: number;
}

async function offer(offered: number, target: number, options: BenchOptions): Promise<Level> {
  const ws = new BenchWorkspace(`throughput-${offered}`);
  try {
    ws.writeSchedules({
      maxConcurrentRuns: 10_000,
      jobs: Array.from({ length: offered }, (_, i) => ({
        id: `job-${i}`,
        skill: "noop",
        cron: "* * * * * *",
        overlap: "allow",
      })),
    });
    const daemon = await ws.start();
    const result = await measure(ws, daemon.pid, offered);
    await daemon.stop();
    const succeeded = result.byStatus.get("succeeded") ?? 0;
    const perSecond = succeeded / WINDOW_S;
    const cpuPerRun = succeeded ? result.cpuUsed / succeeded : Number.NaN;
    const others =
      [...result.byStatus]
        .filter(([status]) => status !== "succeeded")
        .map(([status, n]) => `${count(n)} ${status}`)
        .join(", ") || "none";
    options.log(
      `  ${count(offered)} offered: ${perSecond.toFixed(0)} runs/s succeeded, cpu ${ms(cpuPerRun)} per run, other rows: ${others}`,
    );
    return { offered, target, perSecond, cpuPerRun, others, spanMs: result.spanMs };
  } finally {
    ws.cleanup();
  }
}

export async function throughput(options: BenchOptions): Promise<Section> {
  const levels: Level[] = [];
  for (const { offered, target } of LEVELS) levels.push(await offer(offered, target, options));
  return {
    id: 3,
    title: "Sustained throughput (no-op runs, full ledger writes)",
    method:
      `${LEVELS.map((l) => count(l.offered)).join(" and ")} jobs on \`* * * * * *\` with \`overlap: "allow"\` and \`maxConcurrentRuns: 10000\` offer as many runs a second ` +
      `to one fresh daemon each. After ${WARMUP_MS / 1000} s of warm-up, the slots of ${WINDOW_S} consecutive seconds are ` +
      `followed until each has its final row; succeeded rows ÷ ${WINDOW_S} s is the figure. Each run: claimed in a batch transaction, state and last-success ` +
      `read, finished with its row updated and one log line. A daemon that falls more than a second behind records the slots it reached late as missed ` +
      `(catchUp: latest) instead of queueing them, so missed rows here mean it did not keep up.`,
    figures: levels.flatMap((level) => {
      const at = `${count(level.offered)}/s offered`;
      return [
        {
          figure: `${at}: succeeded runs per second`,
          sundial: count(level.perSecond),
          target: `≥ ${count(level.target)}/s`,
          before: level.offered === 1500 ? "1,500" : "not offered (1,500/s offered: all done, 3,356 per CPU-second)",
          pass: level.perSecond >= level.target,
        },
        { figure: `${at}: other rows for those slots`, sundial: level.others },
        { figure: `${at}: last row of the ${WINDOW_S} s final after`, sundial: ms(level.spanMs) },
        {
          figure: `${at}: daemon CPU per run (CPU over the window ÷ runs)`,
          sundial: `${(level.cpuPerRun * 1000).toFixed(0)} µs`,
        },
        { figure: `${at}: runs per CPU-second (what one free core sustains)`, sundial: count(1000 / level.cpuPerRun) },
      ];
    }),
    notes: [],
  };
}
