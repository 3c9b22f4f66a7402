/**
 * The daemon as a process, with a skill that ignores its signal: each run is given up at its
 * timeout plus `shutdownGrace`, recorded `timed_out`, the job's next slot runs (its place is free),
 * and the step result and state the skill writes after being given up never reach the ledger.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

const stubborn = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "stubborn",
  description: "ignores ctx.signal for 5 s",
  params: z.object({}),
  async run(ctx) {
    await ctx.step("slow", () => new Promise((resolve) => setTimeout(() => resolve("too late"), 5_000)));
    await ctx.state.set("late", ctx.run.id);
    return { title: "late", markdown: "late" };
  },
});
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("a skill that ignores its signal", () => {
  it(
    "is given up at timeout + shutdownGrace, recorded timed_out, frees the job for its next slot, and writes nothing late",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({
        skills: { stubborn },
        schedules: {
          shutdownGrace: "1s",
          maxConcurrentRuns: 1,
          jobs: [{ id: "stubborn", skill: "stubborn", cron: "*/3 * * * * *", timeout: "1s", overlap: "skip" }],
        },
      });
      const w = ws;
      const daemon = await w.start();
      const timedOut = await waitFor(
        () => {
          const runs = w.runs("stubborn").filter((run) => run.status === "timed_out");
          return runs.length >= 3 ? runs : null;
        },
        { timeoutMs: 60_000, intervalMs: 100, what: "three timed_out runs" },
      );
      // Consecutive slots ran (none skipped behind the stubborn skill, which takes 5 s each time).
      expect(w.runs("stubborn").filter((run) => run.status === "skipped")).toEqual([]);
      for (const run of timedOut) {
        const held = (run.finished_at as number) - (run.started_at as number);
        expect(held, `run #${run.id} held for the timeout and the grace`).toBeGreaterThanOrEqual(1_900);
        expect(held).toBeLessThan(3_000);
        expect(run.error).toMatch(/timed out after 1000 ms/);
      }
      // The first run's skill finished its step 5 s in, long after it was given up: refused.
      const first = timedOut[0] as (typeof timedOut)[number];
      await waitFor(() => Date.now() > (first.started_at as number) + 6_000, {
        timeoutMs: 10_000,
        what: "the first skill's late writes",
      });
      expect(w.steps(first.id).filter((step) => step.status === "succeeded")).toEqual([]);
      expect(w.query("SELECT key FROM job_state WHERE job = 'stubborn'")).toEqual([]);
      expect(daemon.logs().filter((log) => /unhandled/i.test(String(log.msg)))).toEqual([]);
    },
  );
});
