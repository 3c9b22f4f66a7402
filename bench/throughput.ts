/**
 * @module bench/throughput — 3. sustained throughput: more no-op runs offered than the target
 * (1,500 jobs on "* * * * * *", overlap allow, no concurrency cap that matters); after a warm-up,
 * the runs of 10 consecutive seconds are followed to their final rows and the succeeded ones counted.
 */
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { cpuMs } from "./lib/proc.ts";
import { count, ms } from "./lib/stats.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

const OFFERED = 1500;
const WARMUP_MS = 4000;
const WINDOW_S = 10;
const TARGET = 1000;

interface Window {
  byStatus: Map<string, number>;
  cpuUsed: number;
  /** From the first slot of the window to the last finished_at of its rows. */
  spanMs: number;
}

async function measure(ws: BenchWorkspace, pid: number): Promise<Window> {
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
      if ((Date.now() > end && total >= OFFERED * WINDOW_S && open === 0) || Date.now() > deadline) {
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

export async function throughput(options: BenchOptions): Promise<Section> {
  const ws = new BenchWorkspace("throughput");
  try {
    ws.writeSchedules({
      maxConcurrentRuns: 10_000,
      jobs: Array.from({ length: OFFERED }, (_, i) => ({
        id: `job-${i}`,
        skill: "noop",
        cron: "* * * * * *",
        overlap: "allow",
      })),
    });
    const daemon = await ws.start();
    const result = await measure(ws, daemon.pid);
    await daemon.stop();
    const succeeded = result.byStatus.get("succeeded") ?? 0;
    const perSecond = succeeded / WINDOW_S;
    const cpuPerRun = succeeded ? result.cpuUsed / succeeded : Number.NaN;
    const others =
      [...result.byStatus]
        .filter(([status]) => status !== "succeeded")
        .map(([status, n]) => `${count(n)} ${status}`)
        .join(", ") || "none";
    options.log(`  ${perSecond.toFixed(0)} runs/s succeeded, cpu ${ms(cpuPerRun)} per run, other rows: ${others}`);
    return {
      id: 3,
      title: "Sustained throughput (no-op runs, full ledger writes)",
      method:
        `${count(OFFERED)} jobs on \`* * * * * *\` with \`overlap: "allow"\` and \`maxConcurrentRuns: 10000\` offer ${count(OFFERED)} runs a second ` +
        `(1.5 × the target) to one fresh daemon. After ${WARMUP_MS / 1000} s of warm-up, the ${count(OFFERED * WINDOW_S)} slots of ${WINDOW_S} consecutive seconds are ` +
        `followed until each has its final row; succeeded rows ÷ ${WINDOW_S} s is the figure. Each run: claimed in a batch transaction, state and last-success ` +
        `read, finished with its row updated and one log line. A daemon that falls more than a second behind records the slots it reached late as missed ` +
        `(catchUp: latest) instead of queueing them, so missed rows here mean it did not keep up.`,
      figures: [
        {
          figure: "succeeded runs per second",
          sundial: count(perSecond),
          target: `≥ ${count(TARGET)}/s`,
          pass: perSecond >= TARGET,
        },
        { figure: "other rows for those slots", sundial: others },
        { figure: `last row of the ${WINDOW_S} s final after`, sundial: ms(result.spanMs) },
        { figure: "daemon CPU per run (CPU over the window ÷ runs)", sundial: `${(cpuPerRun * 1000).toFixed(0)} µs` },
        { figure: "runs per CPU-second (what one free core sustains)", sundial: count(1000 / cpuPerRun) },
      ],
      notes: [],
    };
  } finally {
    ws.cleanup();
  }
}
