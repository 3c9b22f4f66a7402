/**
 * The overview's spend figures come from the ledger's spend table (as the daemon wires it): spend
 * survives the pruning of the runs that made it, and no run needs scanning to draw the chart.
 */
import { afterEach, describe, expect, it } from "vitest";
import { overviewPage } from "../../src/http/dashboard/pages/overview.ts";
import { spendFromLedger } from "../../src/http/dashboard/data.ts";
import { tempStore } from "../helpers/ledger.ts";
import { storeControls } from "../helpers/store-controls.ts";
import { JOBS } from "../helpers/dashboard.ts";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());
const owner = { pid: process.pid, instance: "t" };
const usage = { inputTokens: 10, outputTokens: 20, cacheWriteTokens: 0, cacheReadTokens: 0 };

describe("the overview's spend", () => {
  it("is read from the spend table, summed over models per job and day, after its runs were pruned", async () => {
    const made = tempStore();
    cleanup = made.cleanup;
    const { store } = made;
    const now = Date.now();
    const [claim] = await store.claimRuns(
      [{ job: "digest", skill: "s", scheduledFor: now, trigger: "manual", overlap: "allow" }],
      owner,
      now,
    );
    const runId = claim?.runId as number;
    await store.settleSpend(-1, { runId, job: "digest", model: "a", usage, costUsd: 1.25, now });
    await store.settleSpend(-1, { runId, job: "digest", model: "b", usage, costUsd: 2.5, now });
    await store.settleSpend(-1, { runId, job: "other", model: "a", usage, costUsd: 0.5, now });
    await store.finishRun(runId, { status: "succeeded" }, now);
    expect(await store.prune(now + 1)).toBe(1);

    const spend = spendFromLedger(store);
    const today = new Date(now).toISOString().slice(0, 10);
    const rows = await spend(new Date(now - 86_400_000));
    expect(rows.sort((a, b) => a.job.localeCompare(b.job))).toEqual([
      { day: today, job: "digest", costUsd: 3.75 },
      { day: today, job: "other", costUsd: 0.5 },
    ]);

    const controls = storeControls(store, JOBS, { runMs: null });
    const page = (await overviewPage({ controls, health: async () => ({ status: "ok" }), spend }, now)).value;
    expect(page).toContain("$4.25");
    // Without the spend table the runs are summed, and the pruned run took its cost with it.
    const fromRuns = (await overviewPage({ controls, health: async () => ({ status: "ok" }) }, now)).value;
    expect(fromRuns).not.toContain("$4.25");
    controls.close();
  });
});
