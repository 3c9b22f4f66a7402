/**
 * Final rows asked for together commit in one transaction (sqlite.ts), yet each is fenced alone:
 * a stale epoch refuses only its own row. And the store the daemon uses (wrapped by
 * control/changes.ts for change events) passes the epoch and the usage on to the ledger.
 */
import { afterEach, describe, expect, it } from "vitest";
import { LeaseLostError, type RunStore } from "../../src/ledger/store.ts";
import { createChangeFeed, observeStore } from "../../src/control/changes.ts";
import { tempStore } from "../helpers/ledger.ts";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const owner = { pid: process.pid, instance: "me" };
const usage = {
  usage: { inputTokens: 120, outputTokens: 30, cacheWriteTokens: 0, cacheReadTokens: 0 },
  costUsd: 0.002,
};

async function claim(store: RunStore, job: string): Promise<{ runId: number; epoch: number }> {
  const [result] = await store.claimRuns(
    [{ job, skill: "s", scheduledFor: Date.now(), trigger: "manual", overlap: "allow" }],
    owner,
    Date.now(),
  );
  if (result?.status !== "running") throw new Error("expected a running claim");
  return { runId: result.runId, epoch: result.epoch };
}

describe("final rows of one turn", () => {
  it("land together, and a stale epoch refuses only its own row", async () => {
    const ledger = tempStore();
    cleanup = ledger.cleanup;
    const { store } = ledger;
    const runs = await Promise.all(["a", "b", "c"].map((job) => claim(store, job)));
    const [a, b, c] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
    // b's row was taken over (its epoch moved on) before its holder wrote the end.
    await store.reclaimRun(b.runId, { pid: 1, instance: "other" }, Date.now());
    const now = Date.now();
    const results = await Promise.allSettled([
      store.finishRun(a.runId, { status: "succeeded" }, now, a.epoch, usage),
      store.finishRun(b.runId, { status: "failed", error: "stale" }, now, b.epoch),
      store.finishRun(c.runId, { status: "skipped", reason: "nothing new" }, now, c.epoch),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(LeaseLostError);
    expect(await store.getRun(a.runId)).toMatchObject({ status: "succeeded", usage: usage.usage, costUsd: 0.002 });
    expect(await store.getRun(b.runId)).toMatchObject({ status: "running", error: null });
    expect(await store.getRun(c.runId)).toMatchObject({ status: "skipped", reason: "nothing new" });
    // The final row moved each epoch on: a second end of the same run is refused.
    await expect(store.finishRun(a.runId, { status: "failed" }, now, a.epoch)).rejects.toBeInstanceOf(LeaseLostError);
  });
});

describe("the daemon's store (observed for change events)", () => {
  it("fences writes by their epoch and records the usage of the final row", async () => {
    const ledger = tempStore();
    cleanup = ledger.cleanup;
    const feed = createChangeFeed();
    const seen: number[] = [];
    feed.listen((id) => seen.push(id));
    const store = observeStore(ledger.store, feed);
    const stale = await claim(store, "stale");
    await store.reclaimRun(stale.runId, { pid: 1, instance: "other" }, Date.now());
    await expect(store.markRunning(stale.runId, 2, Date.now(), stale.epoch)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.markRetrying(stale.runId, 1, "x", stale.epoch)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.finishRun(stale.runId, { status: "succeeded" }, Date.now(), stale.epoch)).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    expect(await store.getRun(stale.runId)).toMatchObject({ status: "running" });

    const held = await claim(store, "held");
    await store.finishRun(held.runId, { status: "succeeded" }, Date.now(), held.epoch, usage);
    expect(await store.getRun(held.runId)).toMatchObject({ status: "succeeded", usage: usage.usage, costUsd: 0.002 });
    expect(seen).toContain(held.runId);
  });
});
