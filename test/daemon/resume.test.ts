/**
 * kill -9 in the middle of a run: the next start marks it interrupted and resumes it once, reusing
 * its finished step (whose side effect is therefore not repeated).
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

// Step one counts its executions per slot in a file; step two waits until "fast" exists.
const twoStep = `
import { appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "two-step",
  description: "a side effect, then a long wait",
  params: z.object({ dir: z.string() }),
  async run(ctx) {
    await ctx.step("one", async () => {
      appendFileSync(join(ctx.params.dir, "step-one.log"), ctx.run.scheduledFor + "\\n");
      return "done";
    });
    await ctx.step("two", async () => {
      while (!existsSync(join(ctx.params.dir, "fast"))) await sleep(100, undefined, { signal: ctx.signal });
      return "done";
    });
    return { title: "two steps", markdown: "done" };
  },
});
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("a daemon killed with SIGKILL during a step", () => {
  it(
    "marks the run interrupted at the next start and resumes it exactly once, without redoing the finished step",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({ skills: { "two-step": twoStep } });
      const w = ws;
      w.writeSchedules({
        jobs: [{ id: "slow", skill: "two-step", cron: "* * * * * *", catchUp: "none", params: { dir: w.dir } }],
      });
      appendFileSync(join(w.dir, "step-one.log"), "");

      const first = await w.start();
      const victim = await waitFor(
        () =>
          w
            .runs("slow")
            .find(
              (run) =>
                run.status === "running" && w.steps(run.id).some((s) => s.step_id === "two" && s.status === "running"),
            ),
        {
          timeoutMs: 30_000,
          what: "a run in step two",
        },
      );
      const killed = await first.stop("SIGKILL");
      expect(killed.signal).toBe("SIGKILL");
      expect(w.runs("slow").find((run) => run.id === victim.id)?.status).toBe("running");

      writeFileSync(join(w.dir, "fast"), "");
      const second = await w.start();
      const resumed = await waitFor(
        () => w.runs("slow").find((run) => run.resume_of === victim.id && run.finished_at !== null),
        { timeoutMs: 30_000, what: "the resume to finish" },
      );
      // Let a few more slots pass: the interrupted run must not be resumed a second time.
      await waitFor(
        () => w.runs("slow").filter((run) => run.id > resumed.id && run.status === "succeeded").length >= 2,
        { timeoutMs: 30_000, what: "later runs" },
      );
      await second.stop("SIGTERM");

      const runs = w.runs("slow");
      expect(runs.find((run) => run.id === victim.id)).toMatchObject({ status: "interrupted", resume_of: null });
      const resumes = runs.filter((run) => run.resume_of === victim.id);
      expect(resumes).toHaveLength(1);
      expect(resumes[0]).toMatchObject({ trigger: "resume", status: "succeeded", scheduled_for: victim.scheduled_for });
      expect(runs.filter((run) => run.trigger === "resume")).toHaveLength(1);
      expect(w.steps(resumed.id).map((s) => [s.step_id, s.status, s.reused_from])).toEqual([
        ["one", "succeeded", victim.id],
        ["two", "succeeded", null],
      ]);
      // Step one's side effect happened once for the interrupted slot, though two runs stood for it.
      const slot = new Date(victim.scheduled_for).toISOString();
      const executions = readFileSync(join(w.dir, "step-one.log"), "utf8")
        .split("\n")
        .filter((line) => line === slot);
      expect(executions).toHaveLength(1);
      expect(
        second
          .logs()
          .some((log) => log.msg === "run found running at start-up; marked interrupted" && log.run === victim.id),
      ).toBe(true);
    },
  );
});
