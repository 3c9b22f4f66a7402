/** The daemon as a process fires an every-second job once per slot, on time, with no gap or double. */
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

const tick = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "tick",
  description: "records one step and returns",
  params: z.object({}),
  async run(ctx) {
    await ctx.step("tock", async () => ctx.run.scheduledFor);
    return { title: "tick", markdown: "tick" };
  },
});
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("sundial start, every second", () => {
  it(
    "fires one run per slot for ~5 s: consecutive slots 1 s apart, each started at or after its time",
    { timeout: 90_000 },
    async () => {
      // overlap "allow": on a loaded machine a run may outlast its second, and this test is about firing, not overlap.
      ws = createWorkspace({
        skills: { tick },
        schedules: { jobs: [{ id: "tick", skill: "tick", cron: "* * * * * *", overlap: "allow" }] },
      });
      const daemon = await ws.start();
      const first = await waitFor(() => ws?.runs("tick")[0], { what: "the first run" });
      await waitFor(() => (ws?.runs("tick").at(-1)?.scheduled_for ?? 0) >= first.scheduled_for + 5_000, {
        timeoutMs: 30_000,
        what: "five more seconds of slots",
      });
      const elapsedMs = Date.now() - first.scheduled_for;
      await daemon.stop("SIGTERM");

      const runs = ws.runs("tick");
      const slots = runs.map((run) => run.scheduled_for);
      const last = slots.at(-1) as number;
      // Every second between the first and the last slot has exactly one row, in order.
      expect(slots).toEqual(
        Array.from({ length: (last - first.scheduled_for) / 1000 + 1 }, (_, i) => first.scheduled_for + i * 1000),
      );
      expect(slots.length).toBeGreaterThanOrEqual(6);
      // N slots in about N seconds: the scheduler kept up with the wall clock.
      expect(Math.abs(elapsedMs / 1000 - slots.length)).toBeLessThanOrEqual(3);
      for (const run of runs) {
        expect(run, `run #${run.id}`).toMatchObject({ trigger: "schedule", status: "succeeded", attempt: 1 });
        expect(run.started_at, `fire lag of run #${run.id} recorded`).not.toBeNull();
        const lag = (run.started_at as number) - run.scheduled_for;
        expect(lag, `fire lag of run #${run.id}`).toBeGreaterThanOrEqual(0);
        expect(lag, `fire lag of run #${run.id}`).toBeLessThan(60_000);
        expect(run.finished_at).toBeGreaterThanOrEqual(run.started_at as number);
        expect(ws.steps(run.id).map((step) => [step.step_id, step.status])).toEqual([["tock", "succeeded"]]);
      }
    },
  );
});
