/**
 * @module bench/profile — where the daemon spends its time, for chasing a missed target:
 * `node bin/run-ts.js bench/profile.ts <jobs> [--cron "<pattern>"] [--seconds N] [--patterns P] [--log]`.
 * Runs the real daemon (createApp + startDaemon) in this process on `jobs` no-op jobs — the
 * capacity draw, or all on one pattern with overlap allow — under the V8 sampling profiler, from
 * before start-up until N seconds after ready (default 0), then prints the functions with the
 * most self time and the src/ functions with the most total time. Logs go nowhere unless --log
 * (they are still formatted, as in production).
 */
import { Session } from "node:inspector/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { createApp } from "../src/app.ts";
import { startDaemon } from "../src/daemon/daemon.ts";
import { createLogger, createScrubber } from "../src/log.ts";
import { drawSchedules } from "./lib/draw.ts";
import { childEnv, BenchWorkspace } from "./lib/workspace.ts";
import { summarizeProfile, type CpuProfile } from "./lib/cpu-profile.ts";

const args = process.argv.slice(2);
const jobs = Number(args[0] ?? 10_000);
const flag = (name: string) => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const cron = flag("--cron");
const seconds = Number(flag("--seconds") ?? 0);
const patterns = Number(flag("--patterns") ?? 500);

const ws = new BenchWorkspace("profile");
const session = new Session();
try {
  const drawn = drawSchedules(jobs, patterns);
  ws.writeSchedules({
    maxConcurrentRuns: 10_000,
    jobs: drawn.map((s, i) =>
      cron
        ? { id: `job-${i}`, skill: "noop", cron, overlap: "allow" }
        : { id: `job-${i}`, skill: "noop", cron: s.cron, timezone: s.timezone },
    ),
  });
  const env = childEnv();
  const log = createLogger({
    level: "info",
    scrub: createScrubber(env),
    write: args.includes("--log") ? (line) => process.stderr.write(line) : () => undefined,
  });
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  const started = performance.now();
  const daemon = await startDaemon(createApp({ cwd: ws.dir, env, log }));
  process.stderr.write(`ready in ${Math.round(performance.now() - started)} ms\n`);
  await sleep(seconds * 1000);
  const { profile } = await session.post("Profiler.stop");
  process.stdout.write(summarizeProfile(profile as unknown as CpuProfile, 30));
  const rows = ws.query<{ status: string; n: number }>("SELECT status, COUNT(*) AS n FROM runs GROUP BY status");
  process.stdout.write(`ledger rows: ${rows.map((r) => `${r.n} ${r.status}`).join(", ") || "none"}\n`);
  daemon.scheduler.stop();
} finally {
  session.disconnect();
  ws.cleanup();
  process.exit(0);
}
