/**
 * `sundial migrate`: the SQLite ledger copied into PostgreSQL keeps run ids, steps, deliveries,
 * state, cursors, alert streaks, spend (per day and per run) and budget alerts sent; a rerun copies nothing twice; a slot PostgreSQL already has is
 * skipped; new runs get ids after the copied ones. The command runs as a real process too.
 */
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateLedger } from "../../src/cli/migrate.ts";
import { openPostgresStore } from "../../src/ledger/postgres.ts";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { tempStore } from "../helpers/ledger.ts";
import { createWorkspace } from "../helpers/workspace.ts";

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => server?.stop(), 60_000);

const owner = { pid: 1, instance: "old" };
const SPENT = {
  job: "j",
  model: "claude-sonnet-4-5",
  usage: { inputTokens: 100, outputTokens: 10, cacheWriteTokens: 0, cacheReadTokens: 0 },
  costUsd: 0.25,
  now: 1_050,
};
const ALERT = "job:j|perDay|1970-01-01|80";
const DAY_CAP = { scope: "job" as const, period: "day" as const, limitUsd: 10 };
const RUN_CAP = { scope: "job" as const, period: "run" as const, limitUsd: 10 };

async function fill(file: string) {
  const store = openSqliteStore(file);
  const slot = (job: string, at: number) => ({
    job,
    skill: "s",
    scheduledFor: at,
    trigger: "schedule" as const,
    overlap: "allow" as const,
  });
  const [a, b, c] = await store.claimRuns([slot("j", 1_000), slot("j", 2_000), slot("k", 1_000)], owner, 1_000);
  const [ida, idb, idc] = [a?.runId, b?.runId, c?.runId] as [number, number, number];
  await store.startStep(ida, "fetch", 1_001);
  await store.finishStep(ida, "fetch", { bytes: new Uint8Array([1, 2]) }, 1_002, 1, {
    usage: { inputTokens: 5, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 },
    costUsd: 0.5,
  });
  await store.addDelivery(ida, { to: "file", url: "file:///x" });
  await store.finishRun(ida, { status: "failed", error: "boom" }, 1_100);
  await store.markAlerted(ida, 1_100);
  await store.finishRun(idb, { status: "interrupted", reason: "crash" }, 2_100);
  const [resume] = await store.claimRuns([{ ...slot("j", 2_000), trigger: "resume", resumeOf: idb }], owner, 2_200);
  await store.finishRun(resume?.runId as number, { status: "succeeded" }, 2_300);
  await store.finishRun(idc, { status: "succeeded" }, 1_200);
  await store.setState("j", "seen", ["a"], 1_100);
  await store.jobCursors(["j", "k"], 500);
  await store.setPause("k", "maintenance", 900);
  // Spend: one settled call of run a, one call still reserved (a process stopped mid-call), an alert sent.
  const caps = [{ scope: "job" as const, period: "day" as const, limitUsd: 10 }];
  const held = await store.reserveSpend({ runId: ida, job: "j", amountUsd: 1, now: 1_050, caps });
  if (!held.reserved) throw new Error("the reservation was refused");
  await store.settleSpend(held.id, { ...SPENT, runId: ida });
  await store.reserveSpend({ runId: ida, job: "j", amountUsd: 2, now: 1_060, caps });
  await store.claimBudgetAlert(ALERT, 1_070);
  const runs = await Promise.all([ida, idb, idc, resume?.runId as number].map((id) => store.getRun(id)));
  store.close();
  return runs;
}

describe("sundial migrate", () => {
  it("copies runs with their ids, steps, deliveries, state, streaks, spend and budget alerts, once, and moves the id sequence on", async () => {
    const sqlite = tempStore();
    const file = join(sqlite.dir, "sundial.db");
    sqlite.store.close();
    const before = await fill(file);
    const url = await server.freshDatabase();
    // A daemon on PostgreSQL already recorded slot k@1000: that row stays, the SQLite one is skipped.
    const pgStore = await openPostgresStore(url);
    try {
      const first = await migrateLedger(file, url);
      expect(first.runs).toEqual({ copied: 4, skipped: 0, conflicts: 0 });
      expect(first).toMatchObject({
        steps: 1,
        deliveries: 1,
        state: 1,
        cursors: 2,
        pauses: 1,
        spend: 1,
        runSpend: 1,
        budgetAlerts: 1,
      });
      // Spend counts in PostgreSQL as it did in SQLite (day and run caps); the open reservation stays behind.
      const spendRows = [
        { job: "j", day: "1970-01-01", model: SPENT.model, calls: 1, usage: SPENT.usage, costUsd: 0.25 },
      ];
      expect(await pgStore.listSpend({})).toEqual(spendRows);
      expect(await pgStore.spendUse(DAY_CAP, "j", 1_100)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
      expect(await pgStore.spendUse(RUN_CAP, "j", 1_100, before[0]?.id)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
      expect(await pgStore.hasBudgetAlert(ALERT)).toBe(true);
      expect(await pgStore.claimBudgetAlert(ALERT, 2_000)).toBe(false);
      expect(await pgStore.pauses()).toEqual(new Map([["k", { reason: "maintenance", pausedAt: 900 }]]));
      for (const run of before) expect(await pgStore.getRun(run?.id as number)).toEqual(run);
      expect((await pgStore.getStep(before[0]?.id as number, "fetch"))?.result).toEqual({
        bytes: new Uint8Array([1, 2]),
      });
      expect(await pgStore.loadState("j")).toEqual(new Map([["seen", ["a"]]]));
      expect((await pgStore.jobCursors(["j"], 99_999)).get("j")).toBe(2_000);
      // The alert streak's mark carries over.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      expect((await client.query("SELECT id::int AS id FROM runs WHERE alerted_at IS NOT NULL")).rows).toEqual([
        { id: before[0]?.id },
      ]);
      await client.end();

      const again = await migrateLedger(file, url);
      expect(again).toEqual({
        runs: { copied: 0, skipped: 4, conflicts: 0 },
        steps: 0,
        deliveries: 0,
        state: 0,
        cursors: 0,
        pauses: 0,
        spend: 0,
        runSpend: 0,
        budgetAlerts: 0,
      });
      expect(await pgStore.listRuns({ limit: 100 })).toHaveLength(4);
      // Nothing spent twice by the rerun.
      expect(await pgStore.listSpend({})).toEqual(spendRows);
      expect(await pgStore.spendUse(RUN_CAP, "j", 1_100, before[0]?.id)).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
      const [next] = await pgStore.claimRuns(
        [{ job: "new", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
        owner,
        5_000,
      );
      expect(next?.runId).toBeGreaterThan(Math.max(...before.map((run) => run?.id as number)));
    } finally {
      pgStore.close();
      sqlite.cleanup();
    }
  });

  it(
    "never overwrites a run PostgreSQL already has (by id or by slot), and runs as a command",
    { timeout: 60_000 },
    async () => {
      const url = await server.freshDatabase();
      const pgStore = await openPostgresStore(url);
      const ws = createWorkspace();
      try {
        const [existing] = await pgStore.claimRuns(
          [{ job: "k", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "allow" }],
          { pid: 2, instance: "pg" },
          1_000,
        );
        await fill(ws.dbFile);
        const result = await ws.runCli(["migrate", url]);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        // Run #1 (j@1000) finds its id taken, run #3 (k@1000) its slot: both reported, neither overwrites.
        expect(result.stdout).toContain("2 run(s) (0 already there)");
        expect(result.stdout).toContain("2 run(s) not copied");
        expect(result.stdout).not.toContain("sundial@"); // no password-bearing URL echoed as is
        const k = await pgStore.listRuns({ job: "k" });
        expect(k.map((run) => run.id)).toEqual([existing?.runId]);
        const bad = await ws.runCli(["migrate", "mysql://x"]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain("PostgreSQL URL");
      } finally {
        pgStore.close();
        await ws.cleanup();
      }
    },
  );
});
