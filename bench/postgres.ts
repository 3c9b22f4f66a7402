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
      pass: p99 < 100,
    });
    figures.push({
      figure: "slots claimed (each exactly once)",
      sundial: count(won),
      target: "1,000",
      pass: won === 1000,
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
      "Time from a kill -9 to the run resumed elsewhere is bounded by SUNDIAL_LEASE plus one orphan check (a third of the lease): test/daemon/postgres-chaos.test.ts exercises it with a 2 s lease.",
    ],
  };
}
