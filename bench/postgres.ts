/**
 * @module bench/postgres — the PostgreSQL ledger (an embedded server, as the tests use): the ledger's
 * share of a no-op run (claim, start, finish) per second with one and with three daemons' stores
 * (each its own pool, as separate daemons have), and the time for three daemons' stores to claim
 * 1,000 slots due at once (every slot once; each claim's latency is a fire's lag on the ledger).
 */
import { openPostgresStore } from "../src/ledger/postgres.ts";
import type { RunStore } from "../src/ledger/store.ts";
import { startPostgres } from "../test/helpers/postgres.ts";
import type { BenchOptions, Section } from "./lib/section.ts";
import { count, ms, percentile } from "./lib/stats.ts";

async function noopRuns(stores: RunStore[], durationMs: number): Promise<number> {
  const deadline = Date.now() + durationMs;
  let done = 0;
  // Each daemon runs up to 16 at once (maxConcurrentRuns' default).
  await Promise.all(
    stores.flatMap((store, s) =>
      Array.from({ length: 16 }, async (_, lane) => {
        const owner = { pid: process.pid, instance: `bench-${s}` };
        for (let i = 0; Date.now() < deadline; i++) {
          const at = Date.now() * 1000 + s * 100 + lane;
          const [claim] = await store.claimRuns(
            [{ job: `noop-${s}-${lane}`, skill: "noop", scheduledFor: at + i, trigger: "schedule", overlap: "allow" }],
            owner,
            Date.now(),
          );
          if (claim?.runId == null || claim.status !== "running") continue;
          await store.finishRun(claim.runId, { status: "skipped", reason: "no output" }, Date.now(), claim.epoch);
          done++;
        }
      }),
    ),
  );
  return done / (durationMs / 1000);
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
        figure: `no-op runs per second, ${daemons} daemon(s) (ledger writes only)`,
        sundial: count(perSecond),
        target: daemons === 3 ? "≥ 1,000/s together" : undefined,
        pass: daemons === 3 ? perSecond >= 1000 : undefined,
      });
    }
    const url = await server.freshDatabase();
    const stores = await Promise.all([0, 1, 2].map(() => openPostgresStore(url)));
    const due = Date.now();
    const claims = Array.from({ length: 1000 }, (_, i) => ({
      job: `job-${i}`,
      skill: "noop",
      scheduledFor: due,
      trigger: "schedule" as const,
      overlap: "skip" as const,
    }));
    const lags: number[] = [];
    let won = 0;
    const started = performance.now();
    // Every daemon fires every due slot; one claim per slot wins. A claim's lag: until its row exists.
    await Promise.all(
      stores.map(async (store, s) => {
        for (const claim of [...claims].sort(() => Math.random() - 0.5)) {
          const [result] = await store.claimRuns([claim], { pid: process.pid, instance: `d${s}` }, Date.now());
          if (result?.status !== "duplicate") {
            won++;
            lags.push(performance.now() - started);
          }
        }
      }),
    );
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
      "An embedded PostgreSQL 18 on this machine (fsync off, as in the tests). No-op runs: each daemon's store (its own pool of 10) claims and finishes runs from 16 lanes for the duration; the ledger's share of a run, without skill loading. Fire lag: three stores each claim the same 1,000 due slots one by one in random order; a slot's lag is the time until its winning claim returned.",
    figures,
    notes: [
      "Time from a kill -9 to the run resumed elsewhere is bounded by SUNDIAL_LEASE plus one orphan check (a third of the lease): test/daemon/postgres-chaos.test.ts exercises it with a 2 s lease.",
    ],
  };
}
