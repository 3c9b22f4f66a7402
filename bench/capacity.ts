/**
 * @module bench/capacity — 1. schedule capacity: the daemon holding 10,000 jobs (500 patterns ×
 * 50 zones, varied pairs) — resident memory once ready, after a GC, and time from spawn to ready —
 * beside the same 10,000 schedules built as one croner `Cron` or one node-cron task each; and the
 * daemon holding 100,000 jobs (5,000 patterns × 50 zones).
 */
import { drawSchedules, distinctPairs } from "./lib/draw.ts";
import { rssBytes, cpuMs, childrenRssBytes } from "./lib/proc.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import { runPeer } from "./lib/peer.ts";
import { mb, ms } from "./lib/stats.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

export const JOBS = 10_000;
/** The large draw: 5,000 patterns × 50 zones, each pattern in 20 zones, no pair repeated. */
export const LARGE_JOBS = 100_000;
const LARGE_PATTERNS = 5_000;
const MB = 1024 * 1024;

interface DaemonCapacity {
  readyMs: number;
  cpuToReadyMs: number;
  rssReady: number;
  rssAfterGc: number;
  childrenRss: number;
  runsDuring: number;
}

async function daemonCapacity(jobs: number, options: BenchOptions, patterns = 500): Promise<DaemonCapacity> {
  const ws = new BenchWorkspace(`capacity-${jobs}`);
  try {
    const drawn = drawSchedules(jobs, patterns);
    ws.writeSchedules({
      timezone: "UTC",
      jobs: drawn.map((s, i) => ({ id: `job-${i}`, skill: "noop", cron: s.cron, timezone: s.timezone })),
    });
    const daemon = await ws.start();
    const cpuToReadyMs = cpuMs(daemon.pid);
    const rssReady = rssBytes(daemon.pid) ?? 0;
    await daemon.gc();
    const rssAfterGc = rssBytes(daemon.pid) ?? 0;
    const childrenRss = childrenRssBytes(daemon.pid);
    await daemon.stop();
    const runsDuring = ws.query<{ n: number }>("SELECT COUNT(*) AS n FROM runs")[0]?.n ?? 0;
    options.log(
      `  daemon, ${jobs} jobs: ready in ${ms(daemon.readyMs)} (cpu ${ms(cpuToReadyMs)}), rss ${mb(rssReady)}, after gc ${mb(rssAfterGc)}`,
    );
    return { readyMs: daemon.readyMs, cpuToReadyMs, rssReady, rssAfterGc, childrenRss, runsDuring };
  } finally {
    ws.cleanup();
  }
}

/** Start-up time varies by tens of percent from one start to the next: the middle of three is reported. */
const STARTS = 3;

export async function capacity(options: BenchOptions): Promise<Section> {
  const empty = await daemonCapacity(0, options);
  const starts: DaemonCapacity[] = [];
  for (let i = 0; i < STARTS; i++) starts.push(await daemonCapacity(JOBS, options));
  const full = [...starts].sort((a, b) => a.readyMs - b.readyMs)[Math.floor(STARTS / 2)] as DaemonCapacity;
  const worstRss = Math.max(...starts.map((s) => s.rssAfterGc));
  // One start of the large draw (about 5 s each; its spread is small beside its size).
  const large = await daemonCapacity(LARGE_JOBS, options, LARGE_PATTERNS);
  const croner = await runPeer<PeerCapacity>("capacity-peer.ts", ["croner", String(JOBS)]);
  options.log(`  croner: build ${ms(croner.buildMs)}, rss after gc ${mb(croner.rssAfterGc)}`);
  const nodeCron = await runPeer<PeerCapacity>("capacity-peer.ts", ["node-cron", String(JOBS)]);
  options.log(`  node-cron: build ${ms(nodeCron.buildMs)}, rss after gc ${mb(nodeCron.rssAfterGc)}`);
  return {
    id: 1,
    title: "Schedule capacity (10,000 and 100,000 jobs)",
    method:
      `10,000 jobs from 500 distinct patterns and 50 IANA zones; job i takes pattern i % 500 and zone (7i + ⌊i/500⌋) % 50, ` +
      `so ${distinctPairs(drawSchedules(JOBS)).toLocaleString("en-US")} distinct (pattern, zone) pairs. The daemon runs a no-op skill in a fresh ` +
      `process, started ${STARTS} times; RSS is read from /proc once "sundial is running" is logged, then after a forced full GC. Peers build the same schedules in a ` +
      `fresh process (croner: one paused \`Cron\` with \`timezone\` each; node-cron: one \`createTask(expr, fn, { timezone })\` each, not started).`,
    figures: [
      {
        figure: "resident memory, ready, after GC (largest of 3 starts)",
        sundial: mb(worstRss),
        croner: mb(croner.rssAfterGc),
        nodeCron: mb(nodeCron.rssAfterGc),
        target: "< 150 MB",
        before: "156.2 MB",
        pass: worstRss < 150 * MB,
      },
      {
        figure: "resident memory, ready, before GC",
        sundial: mb(full.rssReady),
        croner: mb(croner.rssBeforeGc),
        nodeCron: mb(nodeCron.rssBeforeGc),
      },
      {
        figure: "same process with 0 jobs (baseline, after GC)",
        sundial: mb(empty.rssAfterGc),
        croner: mb(croner.rssBaseline),
        nodeCron: mb(nodeCron.rssBaseline),
      },
      {
        figure: "spawn to ready (wall, middle of 3 starts) / build time",
        sundial: ms(full.readyMs),
        croner: ms(croner.buildMs),
        nodeCron: ms(nodeCron.buildMs),
        target: "< 1 s",
        before: "1397 ms",
        pass: full.readyMs < 1000,
      },
      {
        figure: "CPU time used until ready / building",
        sundial: ms(full.cpuToReadyMs),
        croner: ms(croner.cpuMs),
        nodeCron: ms(nodeCron.cpuMs),
      },
      { figure: "spawn to ready with 0 jobs (baseline)", sundial: ms(empty.readyMs) },
      {
        figure: "100,000 jobs (5,000 patterns × 50 zones): spawn to ready",
        sundial: ms(large.readyMs),
        target: "< 5 s",
        before: "about 5.6 s",
        pass: large.readyMs < 5000,
      },
      {
        figure: "100,000 jobs: resident memory, ready, after GC",
        sundial: mb(large.rssAfterGc),
        target: "< 400 MB",
        before: "254 MB",
        pass: large.rssAfterGc < 400 * MB,
      },
      { figure: "100,000 jobs: CPU time used until ready", sundial: ms(large.cpuToReadyMs) },
    ],
    notes: [
      `The three starts with 10,000 jobs: ready after ${starts.map((s) => ms(s.readyMs)).join(", ")}; RSS after GC ${starts.map((s) => mb(s.rssAfterGc)).join(", ")}.`,
      `The daemon's figures include Node, tsx (which compiles TypeScript on load; its esbuild service is a separate process of ${mb(full.childrenRss)} not counted above), the HTTP status server, SQLite and prom-client.`,
      `100,000 jobs: job i takes pattern i % 5,000 (the 500 above, then daily, weekday, weekly and monthly patterns with a second field) and zone (7i + ⌊i/5,000⌋) % 50, so ${distinctPairs(drawSchedules(LARGE_JOBS, LARGE_PATTERNS)).toLocaleString("en-US")} distinct pairs; one start; RSS before GC ${mb(large.rssReady)}.`,
      `${starts.reduce((sum, s) => sum + s.runsDuring, 0) + large.runsDuring} run(s) happened to fall due while the daemons were being measured.`,
    ],
  };
}

export interface PeerCapacity {
  buildMs: number;
  cpuMs: number;
  rssBaseline: number;
  rssBeforeGc: number;
  rssAfterGc: number;
}
