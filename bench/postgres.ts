/**
 * @module bench/postgres — the PostgreSQL ledger (an embedded server, as the tests use): the ledger's
 * share of a no-op run per second with one and with three daemons' stores (each its own pool, as
 * separate daemons have), and the lag of 1,000 slots due at once on three daemons, each claiming
 * them as one batch as its scheduler does (every slot once).
 */
import { openPostgresStore } from "../src/ledger/postgres.ts";
import type { RunStore } from "../src/ledger/store.ts";
import { startPostgres } from "../test/helpers/postgres.ts";
import type { BenchOptions, Section } from "./lib/section.ts";
import { count, ms, percentile } from "./lib/stats.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import pg from "pg";
import { BenchWorkspace } from "./lib/workspace.ts";

/** Jobs every daemon has, all on "* * * * * *" (overlap allow), as in benchmark 3: more than the target. */
const OFFERED = 1500;

/**
 * What the daemons ask of the ledger when OFFERED no-op jobs are due every second: each daemon's
 * tick claims the second's slots as one batch (as its scheduler does), and each run it won makes
 * the calls the runner makes for a skill that does nothing (state and last success read together,
 * the final row), up to 16 at once per daemon (its pool has 10 connections). Returns the runs
 * finished per second during the window, after a one-second warm-up.
 */
async function noopRuns(stores: RunStore[], durationMs: number): Promise<number> {
  const jobs = Array.from({ length: OFFERED }, (_, i) => `noop-${i}`);
  const first = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  const windowStart = first + 1000;
  const windowEnd = windowStart + durationMs;
  let done = 0;
  await Promise.all(
    stores.map(async (store, s) => {
      const owner = { pid: process.pid, instance: `bench-${s}` };
      const queue: { runId: number; epoch: number; job: string }[] = [];
      let ticking = true;
      const lanes = Array.from({ length: 16 }, async () => {
        while (ticking || queue.length) {
          const run = queue.shift();
          if (!run) {
            await sleep(5);
            continue;
          }
          if (Date.now() >= windowEnd) continue;
          await Promise.all([store.loadState(run.job), store.lastSuccessAt(run.job)]);
          await store.finishRun(run.runId, { status: "skipped", reason: "no output" }, Date.now(), run.epoch);
          const at = Date.now();
          if (at >= windowStart && at < windowEnd) done++;
        }
      });
      for (let slot = first; slot < windowEnd; slot += 1000) {
        await sleep(slot - Date.now());
        const claims = jobs.map((job) => ({
          job,
          skill: "noop",
          scheduledFor: slot,
          trigger: "schedule" as const,
          overlap: "allow" as const,
        }));
        const results = await store.claimRuns(claims, owner, Date.now(), claims.length);
        results.forEach((result, i) => {
          if (result.status === "running")
            queue.push({ runId: result.runId, epoch: result.epoch, job: jobs[i] as string });
        });
      }
      ticking = false;
      await Promise.all(lanes);
    }),
  );
  return done / (durationMs / 1000);
}

/**
 * 1,000 jobs due at the same second on three daemons. Each daemon does what its scheduler does: one
 * tick takes every due slot from its heap and hands them to `claimRuns` as one batch (in due order,
 * the jobs' default overlap "skip"); a run starts when that call returns, so a slot's lag is the
 * time from its due instant until the call that won it returned.
 */
async function fireLag(stores: RunStore[]): Promise<{ lags: number[]; won: number }> {
  const due = Date.now() + 200;
  const claims = Array.from({ length: 1000 }, (_, i) => ({
    job: `job-${i}`,
    skill: "noop",
    scheduledFor: due,
    trigger: "schedule" as const,
    overlap: "skip" as const,
  }));
  const lags: number[] = [];
  await Promise.all(
    stores.map(async (store, s) => {
      await sleep(due - Date.now());
      const results = await store.claimRuns(claims, { pid: process.pid, instance: `d${s}` }, Date.now(), 1000);
      const at = Date.now();
      for (const result of results) if (result.status !== "duplicate") lags.push(at - due);
    }),
  );
  return { lags, won: lags.length };
}

const SLOW_SKILL = `import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import pg from "pg";
import { BenchWorkspace } from "./lib/workspace.ts";
import { defineSkill, z } from "sundial";

export default defineSkill({
  name: "slow",
  description: "A finished step, then a long one: the run a kill -9 cuts off.",
  params: z.object({}),
  async run(ctx) {
    await ctx.step("one", async () => 1);
    await ctx.step("wait", () => sleep(60_000, undefined, { signal: ctx.signal }));
    return { title: "slow", markdown: "" };
  },
});
`;

/**
 * Two real daemon processes on one database with a 2 s lease: a slow run is started on the first
 * (`sundial trigger` pointed at it), which is killed with SIGKILL once the run is in its long
 * step; the figure is the time from the kill until the second daemon has claimed the run's resume
 * (its row's start), which then goes on from the last finished step.
 */
async function takeover(url: string, leaseMs: number): Promise<number> {
  const ws = new BenchWorkspace("pg-takeover", { slow: SLOW_SKILL });
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    ws.writeSchedules({ jobs: [{ id: "slow", skill: "slow", cron: "0 0 1 1 *" }] });
    const env = (name: string) => ({
      SUNDIAL_DATABASE_URL: url,
      SUNDIAL_LEASE: `${leaseMs}ms`,
      SUNDIAL_DATA_DIR: join(ws.dir, name),
    });
    const victim = await ws.start(env("data-a"));
    const survivor = await ws.start(env("data-b"));
    const asked = await ws.runCli(["trigger", "slow"], env("data-a"));
    if (asked.code !== 0) throw new Error(`sundial trigger failed: ${asked.stderr}`);
    const runId = await poll(async () => {
      const { rows } = await db.query(
        `SELECT r.id FROM runs r JOIN steps s ON s.run_id = r.id WHERE r.owner_pid = $1 AND s.step_id = 'wait' AND s.status = 'running'`,
        [victim.pid],
      );
      return rows[0]?.id as number | undefined;
    }, 30_000);
    process.kill(victim.pid, "SIGKILL");
    const killedAt = Date.now();
    const resumedAt = await poll(async () => {
      const { rows } = await db.query(`SELECT started_at FROM runs WHERE resume_of = $1 AND started_at IS NOT NULL`, [
        runId,
      ]);
      return rows[0]?.started_at as number | undefined;
    }, 60_000);
    await survivor.stop(1_000).catch(() => undefined);
    return resumedAt - killedAt;
  } finally {
    await db.end();
    ws.cleanup();
  }
}

async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await sleep(20);
  }
}

export async function postgresLedger(options: BenchOptions): Promise<Section> {
  const server = await startPostgres();
  const figures: Section["figures"] = [];
  try {
    const durationMs = options.quick ? 3_000 : 10_000;
    for (const daemons of [1, 3]) {
      const url = await server.freshDatabase();
      const stores = await Promise.all(Array.from({ length: daemons }, () => openPostgresStore(url)));
      const perSecond = await noopRuns(stores, durationMs);
      stores.forEach((store) => store.close());
      options.log(`  ${daemons} daemon(s): ${count(perSecond)} runs/s`);
      figures.push({
        figure: `no-op runs per second, ${daemons} daemon(s) (ledger calls only)`,
        sundial: count(perSecond),
        target: daemons === 3 ? "≥ 1,000/s together" : undefined,
        before: daemons === 3 ? "147 (quick run at load 13.8)" : "108 (quick run at load 13.8)",
        pass: daemons === 3 ? perSecond >= 1000 : undefined,
      });
    }
    const url = await server.freshDatabase();
    const stores = await Promise.all([0, 1, 2].map(() => openPostgresStore(url)));
    // A first tick warms each pool's connections, as a running daemon's are.
    await fireLag(stores);
    const { lags, won } = await fireLag(stores);
    stores.forEach((store) => store.close());
    const p99 = percentile(lags, 99);
    options.log(`  1,000 due at once on 3 daemons: p99 ${ms(p99)}, ${won} claimed`);
    figures.push({
      figure: "claim lag p99, 1,000 jobs due at once, 3 daemons",
      sundial: ms(p99),
      target: "< 100 ms",
      before: "3,795 ms (quick run at load 13.8)",
      pass: p99 < 100,
    });
    figures.push({
      figure: "slots claimed (each exactly once)",
      sundial: count(won),
      target: "1,000",
      pass: won === 1000,
    });
    const leaseMs = 2_000;
    const resumeMs = await takeover(await server.freshDatabase(), leaseMs);
    options.log(`  kill -9 → resumed on the other daemon: ${ms(resumeMs)} (lease ${ms(leaseMs)})`);
    figures.push({
      figure: "kill -9 → run resumed on another daemon (lease 2 s)",
      sundial: ms(resumeMs),
      target: "≤ lease + 2 s (4 s)",
      before: "not measured",
      pass: resumeMs <= leaseMs + 2_000,
    });
  } finally {
    await server.stop();
  }
  return {
    id: 11,
    title: "PostgreSQL ledger (several daemons)",
    method:
      "An embedded PostgreSQL 18 on this machine (fsync off, as in the tests). No-op runs: 1,500 jobs due every second (overlap allow, as in benchmark 3); each daemon's store (its own pool of 10) claims each second's slots as one batch, as its scheduler does, and carries the runs it won from 16 lanes, each making the ledger calls the runner makes for a skill that does nothing (state and last success, final row); runs finished per second after a warm-up second: the ledger's share of a run, without skill loading. Fire lag: three stores each claim the same 1,000 due slots as their scheduler does, as one batch per tick, after one warm-up tick; a slot's lag is from its due instant until the batch that won it returned.",
    figures,
    notes: [
      "Kill -9 → resumed: two real daemon processes with SUNDIAL_LEASE=2s; a manual run of a skill with a finished step and a long one is started on the first, which is killed with SIGKILL in the long step; the figure runs from the kill to the start of the resume row the second daemon claims (it goes on from the finished step). Bounded by the lease (renewed every third of it) plus one orphan check (every third of the lease).",
    ],
  };
}
