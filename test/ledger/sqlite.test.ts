/** The SQLite ledger: one row per slot across processes, steps reused on resume, state, retention. */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { tempStore } from "../helpers/ledger.ts";

const owner = { pid: process.pid, instance: "a" };
const ledgers: ReturnType<typeof tempStore>[] = [];
afterEach(() => ledgers.splice(0).forEach((ledger) => ledger.cleanup()));
function ledger() {
  const created = tempStore();
  ledgers.push(created);
  return created;
}

describe("sqlite ledger", () => {
  it("gives a slot one row even when two handles on the same file claim it", async () => {
    const { dir, store } = ledger();
    const other = openSqliteStore(join(dir, "sundial.db"));
    try {
      const claim = { job: "j", skill: "s", scheduledFor: 1_000, trigger: "schedule" as const, overlap: "allow" as const };
      const [first] = await store.claimRuns([claim], owner, 5);
      const [second] = await other.claimRuns([claim], { pid: 1, instance: "b" }, 6);
      expect(first?.status).toBe("running");
      expect(second?.status).toBe("duplicate");
      expect(await store.listRuns({ job: "j" })).toHaveLength(1);
      // A manual run for the same instant is not a slot, so it is allowed.
      const [manual] = await other.claimRuns([{ ...claim, trigger: "manual" }], owner, 7);
      expect(manual?.status).toBe("running");
    } finally {
      other.close();
    }
  });

  it("applies overlap skip against an active run and records the reason", async () => {
    const { store } = ledger();
    const base = { job: "j", skill: "s", trigger: "schedule" as const, overlap: "skip" as const };
    const [a] = await store.claimRuns([{ ...base, scheduledFor: 1000 }], owner, 1000);
    const [b] = await store.claimRuns([{ ...base, scheduledFor: 2000 }], owner, 2000);
    expect(a?.status).toBe("running");
    expect(b).toMatchObject({ status: "skipped", reason: `overlap: run #${a?.runId} of this job is still running` });
  });

  it("copies finished steps into a resumed run and keeps bytes intact", async () => {
    const { store } = ledger();
    const [run] = await store.claimRuns([{ job: "j", skill: "s", scheduledFor: 1, trigger: "schedule", overlap: "skip" }], owner, 1);
    const id = run?.runId as number;
    await store.startStep(id, "image", 2);
    await store.finishStep(id, "image", { png: new Uint8Array([137, 80, 78, 71]) }, 3);
    await store.startStep(id, "write", 4);
    await store.finishRun(id, { status: "interrupted", reason: "crash" }, 5);
    expect((await store.resumableRuns(0)).map((r) => r.id)).toEqual([id]);
    const [resume] = await store.claimRuns([{ job: "j", skill: "s", scheduledFor: 1, trigger: "resume", overlap: "skip", resumeOf: id }], owner, 6);
    const resumeId = resume?.runId as number;
    expect(await store.copyFinishedSteps(id, resumeId)).toBe(1);
    const step = await store.getStep(resumeId, "image");
    expect((step?.result as { png: Uint8Array }).png).toEqual(new Uint8Array([137, 80, 78, 71]));
    expect(await store.getStep(resumeId, "write")).toBeNull();
    expect(await store.resumableRuns(0)).toEqual([]);
    const shown = await store.getRun(resumeId);
    expect(shown?.steps[0]).toMatchObject({ id: "image", reusedFrom: id });
  });

  it("sums usage per step and per run, and an unknown price makes the run's cost unknown", async () => {
    const { store } = ledger();
    const [run] = await store.claimRuns([{ job: "j", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }], owner, 1);
    const id = run?.runId as number;
    await store.startStep(id, "a", 1);
    await store.addUsage(id, "a", { inputTokens: 10, outputTokens: 5, cacheWriteTokens: 100, cacheReadTokens: 0 }, 0.5);
    await store.addUsage(id, null, { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 50 }, 0.25);
    let shown = await store.getRun(id);
    expect(shown?.usage).toEqual({ inputTokens: 11, outputTokens: 6, cacheWriteTokens: 100, cacheReadTokens: 50 });
    expect(shown?.costUsd).toBeCloseTo(0.75);
    await store.addUsage(id, "a", { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 }, null);
    shown = await store.getRun(id);
    expect(shown?.costUsd).toBeNull();
  });

  it("alerts once per failure streak", async () => {
    const { store } = ledger();
    const runs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [run] = await store.claimRuns([{ job: "j", skill: "s", scheduledFor: i, trigger: "schedule", overlap: "allow" }], owner, i);
      runs.push(run?.runId as number);
    }
    const [r1, r2, r3, r4] = runs as [number, number, number, number];
    await store.finishRun(r1, { status: "failed", error: "x" }, 1);
    expect(await store.shouldAlert("j", r1)).toBe(true);
    await store.markAlerted(r1, 1);
    await store.finishRun(r2, { status: "failed", error: "x" }, 2);
    expect(await store.shouldAlert("j", r2)).toBe(false);
    await store.finishRun(r3, { status: "succeeded" }, 3);
    await store.finishRun(r4, { status: "failed", error: "y" }, 4);
    expect(await store.shouldAlert("j", r4)).toBe(true);
  });

  it("prunes old runs but keeps the catch-up cursor past them", async () => {
    const { store } = ledger();
    await store.jobCursors(["j"], 0);
    const [run] = await store.claimRuns([{ job: "j", skill: "s", scheduledFor: 5_000, trigger: "schedule", overlap: "allow" }], owner, 5_000);
    await store.finishRun(run?.runId as number, { status: "succeeded" }, 6_000);
    expect(await store.prune(10_000)).toBe(1);
    expect(await store.listRuns({})).toHaveLength(0);
    expect((await store.jobCursors(["j"], 20_000)).get("j")).toBe(5_000);
  });
});
