/**
 * @module bench/idle — 4. idle cost: CPU used by a daemon holding 1,000 hourly jobs, none of which
 * falls due during the measurement (each fires 20–39 minutes after the benchmark starts, in its
 * own zone), over 60 s (15 s with --quick) from 3 s after ready, from /proc utime+stime, sampled
 * every tenth of the window so a one-off (the GC that follows start-up) can be told from the rest.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ZONES } from "./lib/draw.ts";
import { cpuMs, treeCpuMs } from "./lib/proc.ts";
import { count, ms } from "./lib/stats.ts";
import { BenchWorkspace } from "./lib/workspace.ts";
import type { BenchOptions, Section } from "./lib/section.ts";

const JOBS = 1000;
const SETTLE_MS = 3000;
const SAMPLES = 10;

/** The minute of the hour it is now in `zone`. */
function minuteIn(zone: string): number {
  return Number(new Intl.DateTimeFormat("en-US", { timeZone: zone, minute: "numeric" }).format(new Date()));
}

const percentOf = (cpu: number, wall: number) => `${((100 * cpu) / wall).toFixed(2)}%`;

export async function idle(options: BenchOptions): Promise<Section> {
  const windowMs = options.quick ? 15_000 : 60_000;
  const ws = new BenchWorkspace("idle");
  try {
    const minutes = new Map<string, number>(ZONES.map((zone) => [zone, minuteIn(zone)]));
    ws.writeSchedules({
      jobs: Array.from({ length: JOBS }, (_, i) => {
        const zone = ZONES[i % ZONES.length] as string;
        return {
          id: `hourly-${i}`,
          skill: "noop",
          cron: `${((minutes.get(zone) ?? 0) + 20 + (i % 20)) % 60} * * * *`,
          timezone: zone,
        };
      }),
    });
    const daemon = await ws.start();
    await sleep(SETTLE_MS);
    const treeBefore = treeCpuMs(daemon.pid);
    const samples: number[] = [];
    const started = performance.now();
    let last = cpuMs(daemon.pid);
    for (let i = 1; i <= SAMPLES; i++) {
      await sleep(started + (i * windowMs) / SAMPLES - performance.now());
      const now = cpuMs(daemon.pid);
      samples.push(now - last);
      last = now;
    }
    const elapsed = performance.now() - started;
    const treeUsed = treeCpuMs(daemon.pid) - treeBefore;
    await daemon.stop();
    const used = samples.reduce((sum, s) => sum + s, 0);
    const lastHalf = samples.slice(SAMPLES / 2).reduce((sum, s) => sum + s, 0);
    const runs = ws.query<{ n: number }>("SELECT COUNT(*) AS n FROM runs")[0]?.n ?? 0;
    const percent = (100 * used) / elapsed;
    options.log(
      `  ${ms(used)} CPU over ${ms(elapsed)}: ${percent.toFixed(2)}% of one core; per ${windowMs / SAMPLES / 1000} s: ${samples.join(" ")} ms`,
    );
    return {
      id: 4,
      title: "Idle cost (1,000 hourly jobs)",
      method:
        `1,000 jobs \`M * * * *\` over the 50 zones (minute chosen so none falls due for 20 minutes), no-op skill, one fresh daemon; ` +
        `from ${SETTLE_MS / 1000} s after ready, the daemon's CPU time (utime+stime from /proc, all threads) over ${windowMs / 1000} s of wall time, in ${SAMPLES} samples.`,
      figures: [
        { figure: `CPU used over ${windowMs / 1000} s`, sundial: ms(used) },
        { figure: "share of one core", sundial: percentOf(used, elapsed), target: "< 0.5%", pass: percent < 0.5 },
        { figure: `share of one core, last ${windowMs / 2000} s only`, sundial: percentOf(lastHalf, elapsed / 2) },
        { figure: "with child processes (tsx's esbuild service)", sundial: percentOf(treeUsed, elapsed) },
      ],
      notes: [
        `CPU ms per ${windowMs / SAMPLES / 1000} s: ${samples.join(", ")} (/proc counts in 10 ms ticks).`,
        `Runs recorded during the window: ${count(runs)} (expected 0).`,
        ...(options.quick ? ["--quick: a 15 s window instead of the issue's 60 s."] : []),
      ],
    };
  } finally {
    ws.cleanup();
  }
}
