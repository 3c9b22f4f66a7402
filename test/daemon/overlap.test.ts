/** overlap "skip": a job slower than its schedule never runs twice at once; the slots in between are `skipped`. */
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

const slow = `
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "slow",
  description: "takes 2.5 s",
  params: z.object({}),
  async run(ctx) {
    await sleep(2_500, undefined, { signal: ctx.signal });
    return { title: "slow", markdown: "done" };
  },
});
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe('overlap "skip"', () => {
  it(
    "records the slots that come while the job runs as skipped (reason overlap:…) and never runs two at once",
    { timeout: 90_000 },
    async () => {
      ws = createWorkspace({
        skills: { slow },
        schedules: { jobs: [{ id: "slow", skill: "slow", cron: "* * * * * *", overlap: "skip" }] },
      });
      const w = ws;
      await w.start();
      let mostRunning = 0;
      await waitFor(
        () => {
          const runs = w.runs("slow");
          mostRunning = Math.max(mostRunning, runs.filter((run) => run.status === "running").length);
          return (
            runs.filter((run) => run.status === "succeeded").length >= 3 &&
            runs.filter((run) => run.status === "skipped").length >= 3
          );
        },
        { timeoutMs: 45_000, intervalMs: 50, what: "three finished and three skipped runs" },
      );
      expect(mostRunning).toBe(1);

      const runs = w.runs("slow");
      const skipped = runs.filter((run) => run.status === "skipped");
      for (const run of skipped) {
        expect(run.reason).toMatch(/^overlap:/);
        expect(run.started_at).toBeNull();
      }
      // The runs that did execute never overlapped in time, and each slot still has exactly one row.
      const executed = runs
        .filter((run) => run.started_at !== null)
        .sort((a, b) => (a.started_at as number) - (b.started_at as number));
      executed.slice(1).forEach((run, i) => {
        const previous = executed[i];
        expect(previous?.finished_at, `run #${previous?.id} finished`).not.toBeNull();
        expect(run.started_at, `run #${run.id} started after run #${previous?.id} ended`).toBeGreaterThanOrEqual(
          previous?.finished_at as number,
        );
      });
      const slots = runs.map((run) => run.scheduled_for).sort((a, b) => a - b);
      const first = slots[0] as number;
      expect(slots).toEqual(
        Array.from({ length: ((slots.at(-1) as number) - first) / 1000 + 1 }, (_, i) => first + i * 1000),
      );
      // A skipped slot falls inside a run that was still going when it came.
      for (const run of skipped) {
        const blocker = executed.find(
          (e) =>
            (e.started_at as number) <= run.scheduled_for + 1000 &&
            run.scheduled_for <= (e.finished_at ?? Infinity) + 1000,
        );
        expect(blocker, `a run was going at ${new Date(run.scheduled_for).toISOString()}`).toBeDefined();
      }
    },
  );
});
