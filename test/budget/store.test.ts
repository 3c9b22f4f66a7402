/**
 * The spend methods of the SQLite store: spend kept apart from runs (a month survives pruning), a
 * perRun cap measured over a slot's whole chain (a resume counts what the interrupted run spent),
 * reservations counted while they stand and dropped with their run, also after a crash.
 */
import { afterEach, describe, expect, it } from "vitest";
import { tempStore } from "../helpers/ledger.ts";
import type { SpendCap } from "../../src/ledger/store.ts";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());
const owner = { pid: process.pid, instance: "t" };
const usage = { inputTokens: 10, outputTokens: 20, cacheWriteTokens: 0, cacheReadTokens: 0 };
const DAY = Date.UTC(2026, 11, 3, 12);

function ledger() {
  const made = tempStore();
  cleanup = made.cleanup;
  return made.store;
}

describe("spend in the ledger", () => {
  it("keeps month spend after the runs that spent it are pruned", async () => {
    const store = ledger();
    const [claim] = await store.claimRuns(
      [{ job: "j", skill: "s", scheduledFor: DAY, trigger: "manual", overlap: "allow" }],
      owner,
      DAY,
    );
    const runId = claim?.runId as number;
    await store.settleSpend(-1, { runId, job: "j", model: "m", usage, costUsd: 0.25, now: DAY });
    await store.finishRun(runId, { status: "succeeded" }, DAY);
    expect(await store.prune(DAY + 1)).toBe(1);
    // The run's own spend (for perRun) goes with the run; the day's spend stays.
    const perRun: SpendCap = { scope: "job", period: "run", limitUsd: 1 };
    expect(await store.spendUse(perRun, "j", DAY, runId)).toEqual({ spentUsd: 0, reservedUsd: 0 });
    const month: SpendCap = { scope: "job", period: "month", limitUsd: 1 };
    expect(await store.spendUse(month, "j", Date.UTC(2026, 11, 31))).toEqual({ spentUsd: 0.25, reservedUsd: 0 });
    expect(await store.spendUse(month, "j", Date.UTC(2027, 0, 1))).toEqual({ spentUsd: 0, reservedUsd: 0 });
    expect(await store.listSpend({ sinceDay: "2026-12-01" })).toHaveLength(1);
  });

  it("measures perRun over the chain of resumes", async () => {
    const store = ledger();
    const [first] = await store.claimRuns(
      [{ job: "j", skill: "s", scheduledFor: DAY, trigger: "schedule", overlap: "allow" }],
      owner,
      DAY,
    );
    const firstId = first?.runId as number;
    await store.settleSpend(-1, { runId: firstId, job: "j", model: "m", usage, costUsd: 0.3, now: DAY });
    await store.finishRun(firstId, { status: "interrupted", reason: "crash" }, DAY);
    const [resume] = await store.claimRuns(
      [{ job: "j", skill: "s", scheduledFor: DAY, trigger: "resume", overlap: "allow", resumeOf: firstId }],
      owner,
      DAY,
    );
    const resumeId = resume?.runId as number;
    const perRun: SpendCap = { scope: "job", period: "run", limitUsd: 0.5 };
    expect(await store.reserveSpend({ runId: resumeId, job: "j", amountUsd: 0.25, now: DAY, caps: [perRun] })).toEqual({
      reserved: false,
      cap: perRun,
      spentUsd: 0.3,
      reservedUsd: 0,
    });
    expect(
      (await store.reserveSpend({ runId: resumeId, job: "j", amountUsd: 0.2, now: DAY, caps: [perRun] })).reserved,
    ).toBe(true);
  });

  it("counts open reservations, releases them with their run, and drops those of runs that died", async () => {
    const store = ledger();
    const claims = await store.claimRuns(
      [0, 1].map((i) => ({
        job: "j",
        skill: "s",
        scheduledFor: DAY + i,
        trigger: "schedule" as const,
        overlap: "allow" as const,
      })),
      owner,
      DAY,
    );
    const [a, b] = claims.map((claim) => claim.runId as number) as [number, number];
    const day: SpendCap = { scope: "all", period: "day", limitUsd: 1 };
    expect((await store.reserveSpend({ runId: a, job: "j", amountUsd: 0.6, now: DAY, caps: [day] })).reserved).toBe(
      true,
    );
    expect(await store.reserveSpend({ runId: b, job: "other", amountUsd: 0.6, now: DAY, caps: [day] })).toMatchObject({
      reserved: false,
      spentUsd: 0,
      reservedUsd: 0.6,
    });
    expect(await store.releaseRunReservations(a)).toBe(1);
    expect((await store.reserveSpend({ runId: b, job: "other", amountUsd: 0.6, now: DAY, caps: [day] })).reserved).toBe(
      true,
    );
    // Run b's process died: its row is no longer active, and start-up drops what it held.
    await store.finishRun(b, { status: "interrupted", reason: "crash" }, DAY);
    expect(await store.releaseStaleReservations()).toBe(1);
    expect(await store.spendUse(day, "j", DAY)).toEqual({ spentUsd: 0, reservedUsd: 0 });
  });

  it("claims each budget alert once", async () => {
    const store = ledger();
    expect(await store.hasBudgetAlert("job:j|perDay|2026-12-03|80")).toBe(false);
    expect(await store.claimBudgetAlert("job:j|perDay|2026-12-03|80", DAY)).toBe(true);
    expect(await store.claimBudgetAlert("job:j|perDay|2026-12-03|80", DAY)).toBe(false);
    expect(await store.hasBudgetAlert("job:j|perDay|2026-12-03|80")).toBe(true);
  });
});
