/**
 * Hot reload in a running daemon: each kind of broken schedules.json is rejected with a log line
 * while the running job keeps firing; a new skill file plus its job starts firing without a restart.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

const counted = (name: string) => `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "${name}",
  description: "returns at once",
  params: z.object({ n: z.number().default(1) }),
  run: (ctx) => ({ title: "${name}", markdown: String(ctx.params.n) }),
});
`;

const good = { id: "tick", skill: "tick", cron: "* * * * * *", params: { n: 1 } };
// What is written, and what the logged problem must say.
const broken: [string, unknown, string][] = [
  ["invalid JSON", '{ "jobs": [ { "id": "tick", ', "invalid JSON"],
  ["a bad cron", { jobs: [{ ...good, cron: "* * * * * * * *" }] }, 'jobs[0] ("tick").cron: invalid cron pattern'],
  [
    "an unknown skill",
    { jobs: [good, { id: "other", skill: "no-such-skill", cron: "* * * * * *" }] },
    'unknown skill "no-such-skill"',
  ],
  ["a wrong param type", { jobs: [{ ...good, params: { n: "one" } }] }, 'jobs[0] ("tick").params.n'],
  ["a duplicate id", { jobs: [good, { ...good, cron: "*/2 * * * * *" }] }, 'duplicate job id "tick"'],
];

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("configuration reload", () => {
  it(
    "rejects each broken schedules.json and keeps the old job firing, then picks up a new skill and job without a restart",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({ skills: { tick: counted("tick") }, schedules: { jobs: [good] } });
      const w = ws;
      const daemon = await w.start();
      await waitFor(() => w.runs("tick").length >= 1, { timeoutMs: 30_000, what: "a first run" });
      const rejections = () =>
        daemon
          .logs()
          .filter((log) => typeof log.msg === "string" && log.msg.startsWith("configuration change rejected")).length;

      for (const [what, content, problem] of broken) {
        const before = rejections();
        const linesBefore = daemon.lines.length;
        w.writeSchedules(content);
        const editedAt = Date.now();
        await waitFor(() => rejections() > before, { timeoutMs: 20_000, what: `the rejection of ${what}` });
        const logged = daemon.lines
          .slice(linesBefore)
          .map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
        expect(logged.join("\n"), what).toContain(problem);
        // The old job goes on: new rows after the edit, from the same daemon.
        await waitFor(
          () => w.runs("tick").filter((run) => run.scheduled_for > editedAt && run.status === "succeeded").length >= 2,
          { timeoutMs: 20_000, what: `runs after ${what}` },
        );
      }
      expect(daemon.logs().some((log) => log.msg === "configuration reloaded")).toBe(false);
      expect(w.runs().every((run) => run.job === "tick")).toBe(true);
      const allSlots = w.runs("tick").map((run) => run.scheduled_for);
      expect(new Set(allSlots).size).toBe(allSlots.length);

      // A new skill file, then a job that uses it.
      w.writeSkill("tock", counted("tock"));
      w.writeSchedules({ jobs: [good, { id: "tock", skill: "tock", cron: "* * * * * *", params: { n: 2 } }] });
      const addedAt = Date.now();
      const firstTock = await waitFor(() => w.runs("tock").find((run) => run.status === "succeeded"), {
        timeoutMs: 20_000,
        what: "the new job's first run",
      });
      // Within 5 s of the edit, give or take a loaded machine (file-system events, with a 5 s poll behind them).
      expect((firstTock.started_at as number) - addedAt).toBeLessThan(8_000);
      expect(firstTock.skill).toBe("tock");
      expect(daemon.logs().some((log) => log.msg === "configuration reloaded")).toBe(true);
      expect(daemon.lines.filter((line) => line.includes('"sundial is running"'))).toHaveLength(1);
      await waitFor(() => w.runs("tick").some((run) => run.scheduled_for > addedAt && run.status === "succeeded"), {
        timeoutMs: 20_000,
        what: "the old job after the reload",
      });
      expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    },
  );
});
