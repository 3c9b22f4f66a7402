/**
 * Downtime between a SIGTERM and the next start: with catchUp "latest" the newest missed slot runs
 * once as a catch-up and the others get `missed` rows; with "none" they are all `missed`. Either
 * way no slot is left without a row.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it, type TestContext } from "vitest";
import { createWorkspace, waitFor, type LedgerRun, type Workspace } from "../helpers/workspace.ts";

const tick = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "tick",
  description: "returns at once",
  params: z.object({}),
  run: () => ({ title: "tick", markdown: "tick" }),
});
`;

type Expect = TestContext["expect"];

/** Runs the daemon, stops it, waits ~4 s, starts it again; returns the rows before and after. */
async function withDowntime(
  catchUp: "latest" | "none",
  { expect, onTestFinished }: TestContext,
): Promise<{ before: LedgerRun[]; after: LedgerRun[]; all: LedgerRun[] }> {
  // overlap "allow": a run that outlasts its second on a loaded machine must not turn a slot into "skipped" here.
  const w: Workspace = createWorkspace({
    skills: { tick },
    schedules: { jobs: [{ id: "tick", skill: "tick", cron: "* * * * * *", catchUp, overlap: "allow" }] },
  });
  // The context's hook, not the global one: with concurrent tests only it knows which test this is.
  onTestFinished(() => w.cleanup());
  const first = await w.start();
  await waitFor(() => w.runs("tick").filter((run) => run.status === "succeeded").length >= 2, {
    timeoutMs: 30_000,
    what: "two runs",
  });
  expect(await first.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  const before = w.runs("tick");
  await sleep(4_000);
  const second = await w.start();
  const lastBefore = before.at(-1) as LedgerRun;
  // Two on-time runs after the restart show the catch-up is over and normal firing resumed.
  await waitFor(
    () =>
      w.runs("tick").filter((run) => run.id > lastBefore.id && run.trigger === "schedule" && run.status === "succeeded")
        .length >= 2,
    {
      timeoutMs: 30_000,
      what: "runs after the restart",
    },
  );
  await second.stop("SIGTERM");
  const all = w.runs("tick");
  return { before, after: all.filter((run) => run.id > lastBefore.id), all };
}

/** Every second from the first slot to the last has exactly one schedule/catchup row. */
function expectNoGap(runs: LedgerRun[], expect: Expect): void {
  const slots = runs
    .filter((run) => run.trigger === "schedule" || run.trigger === "catchup")
    .map((run) => run.scheduled_for)
    .sort((a, b) => a - b);
  const first = slots[0] as number;
  expect(slots).toEqual(
    Array.from({ length: ((slots.at(-1) as number) - first) / 1000 + 1 }, (_, i) => first + i * 1000),
  );
}

// The two cases run side by side (so they use their context's expect and hooks): each spends most of its time waiting for slots and downtime.
describe.concurrent("catch-up after downtime", () => {
  it(
    'catchUp "latest": one catchup run for the newest downtime slot, missed rows for the older ones, no slot without a row',
    { timeout: 120_000 },
    async (context) => {
      const { expect } = context;
      const { before, after, all } = await withDowntime("latest", context);
      expectNoGap(all, expect);
      const lastBefore = Math.max(...before.map((run) => run.scheduled_for));
      const downtime = after
        .filter((run) => run.trigger !== "schedule" || run.status === "missed")
        .sort((a, b) => a.scheduled_for - b.scheduled_for);
      const catchups = after.filter((run) => run.trigger === "catchup");
      expect(catchups).toHaveLength(1);
      const catchup = catchups[0] as LedgerRun;
      expect(catchup.status).toBe("succeeded");
      // The downtime slots, oldest first: missed ones, then the catch-up as the newest.
      expect(downtime.at(-1)?.id).toBe(catchup.id);
      const missed = downtime.slice(0, -1);
      expect(missed.length).toBeGreaterThanOrEqual(3);
      for (const run of missed)
        expect(run, `slot ${new Date(run.scheduled_for).toISOString()}`).toMatchObject({
          status: "missed",
          started_at: null,
        });
      expect(missed[0]?.scheduled_for).toBe(lastBefore + 1000);
      // Rows after the catch-up are ordinary on-time runs.
      for (const run of after.filter((r) => r.scheduled_for > catchup.scheduled_for))
        expect(run).toMatchObject({ trigger: "schedule", status: "succeeded" });
    },
  );

  it(
    'catchUp "none": every downtime slot gets a missed row and nothing runs for them',
    { timeout: 120_000 },
    async (context) => {
      const { expect } = context;
      const { before, after, all } = await withDowntime("none", context);
      expectNoGap(all, expect);
      const lastBefore = Math.max(...before.map((run) => run.scheduled_for));
      expect(after.filter((run) => run.trigger === "catchup")).toHaveLength(0);
      const missed = after.filter((run) => run.status === "missed").sort((a, b) => a.scheduled_for - b.scheduled_for);
      expect(missed.length).toBeGreaterThanOrEqual(4);
      expect(missed[0]?.scheduled_for).toBe(lastBefore + 1000);
      // The missed slots are exactly the downtime: contiguous from the stop, then on-time runs only.
      const lastMissed = missed.at(-1)?.scheduled_for as number;
      expect(missed.map((run) => run.scheduled_for)).toEqual(
        Array.from({ length: missed.length }, (_, i) => lastBefore + 1000 * (i + 1)),
      );
      for (const run of missed) expect(run.started_at).toBeNull();
      for (const run of after.filter((r) => r.scheduled_for > lastMissed))
        expect(run).toMatchObject({ trigger: "schedule", status: "succeeded" });
    },
  );
});
