/**
 * @module config-problems.test — a daemon started on a schedules.json with broken jobs (bad cron,
 * unknown time zone, duplicate id, a timeout past Node's timer limit) runs the other jobs and says
 * `degraded` on /healthz, naming each disabled job and why; a broken skill file no job uses does not
 * block reloads, and its whole compile error is shown; /healthz does not write the ledger per request.
 */
import { describe, expect, it } from "vitest";
import { createWorkspace, waitFor } from "../helpers/workspace.ts";

const tick = (name: string) => `
import { defineSkill, z } from "sundial";
export default defineSkill({ name: "${name}", description: "d", params: z.object({}), run: () => ({ title: "t", markdown: "m" }) });
`;
const every = "* * * * * *";

interface Health {
  status: string;
  checks: {
    jobs: { status: string; disabled: { id: string; reason: string }[] };
    config: { status: string; problems?: string[] };
    ledger: { status: string };
  };
}

describe("a daemon with broken jobs in schedules.json", () => {
  it(
    "runs the good jobs, disables only the broken ones and reports degraded health naming them",
    { timeout: 120_000 },
    async ({ onTestFinished }) => {
      const w = createWorkspace({
        skills: { tick: tick("tick") },
        schedules: {
          jobs: [
            { id: "tick", skill: "tick", cron: every },
            { id: "bad-cron", skill: "tick", cron: "61 * * * *" },
            { id: "bad-zone", skill: "tick", cron: every, timezone: "Mars/Olympus" },
            { id: "tick", skill: "tick", cron: "0 9 * * *" },
            { id: "long-timeout", skill: "tick", cron: every, timeout: "25d" },
          ],
        },
      });
      onTestFinished(() => w.cleanup());
      const daemon = await w.start();
      await waitFor(() => w.runs("tick").filter((run) => run.status === "succeeded").length >= 2, {
        timeoutMs: 30_000,
        what: "two runs of the good job",
      });
      expect(w.runs().filter((run) => run.job !== "tick")).toEqual([]);

      const response = await fetch(`${daemon.url}/healthz`);
      expect(response.status).toBe(200);
      const health = (await response.json()) as Health;
      expect(health.status).toBe("degraded");
      expect(health.checks.ledger.status).toBe("ok");
      expect(health.checks.jobs.status).toBe("degraded");
      const reasons = Object.fromEntries(health.checks.jobs.disabled.map((job) => [job.id, job.reason]));
      expect(reasons["bad-cron"]).toMatch(/^jobs\[1\]\.cron: invalid cron pattern "61 \* \* \* \*"/);
      expect(reasons["bad-zone"]).toContain('jobs[2].timezone: unknown time zone "Mars/Olympus"');
      expect(reasons.tick).toContain('jobs[3].id: duplicate job id "tick" (also jobs[0])');
      expect(reasons["long-timeout"]).toContain('jobs[4].timeout: at most "24d"');
      // Problems name the job by id as well as index.
      const warned = daemon.lines.join("\n");
      expect(warned).toContain('jobs[1] (\\"bad-cron\\").cron');
      expect(warned).toContain('jobs[3] (\\"tick\\").id');
      expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    },
  );

  it(
    "applies an edit while an unused skill file is broken, shows its whole compile error, and writes the ledger at most once for many /healthz",
    { timeout: 120_000 },
    async ({ onTestFinished }) => {
      const w = createWorkspace({
        skills: { tick: tick("tick") },
        schedules: { jobs: [{ id: "tick", skill: "tick", cron: "0 9 * * *" }] },
      });
      onTestFinished(() => w.cleanup());
      const daemon = await w.start();
      w.writeSkill(
        "broken",
        `import { defineSkill } from "sundial";\nexport default defineSkill({\n  name: "broken",,\n});\n`,
      );
      w.writeSchedules({
        jobs: [
          { id: "tick", skill: "tick", cron: "0 9 * * *" },
          { id: "tock", skill: "tick", cron: every },
        ],
      });
      await waitFor(() => w.runs("tock").length >= 1, {
        timeoutMs: 30_000,
        what: "the edited schedule to be applied (a run of tock)",
      });
      expect(
        daemon
          .logs()
          .some((log) => log.msg === "configuration change rejected; the running configuration stays as it was"),
      ).toBe(false);

      const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as Health;
      expect(health.checks.config.status).toBe("degraded");
      const problem = health.checks.config.problems?.find((line) => line.startsWith("skills/broken.ts")) ?? "";
      // The whole error: esbuild's first line says only "Transform failed with 1 error:".
      expect(problem).toMatch(/skill failed to load: [^\n]*\n.*broken\.ts:3:\d+: ERROR: /s);

      const writes = () => w.query<{ at: number }>("SELECT at FROM health");
      const before = JSON.stringify(writes());
      for (let i = 0; i < 5; i++) expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
      expect(JSON.stringify(writes())).toBe(before);
      expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    },
  );
});
