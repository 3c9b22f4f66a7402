/**
 * @module run.test — `sundial run <job | skill>`: one run now, in the foreground, recorded in the
 * ledger like any other; exit 0 on success or skip, 1 on failure, 2 on bad usage; --params and
 * --dry-run. (Retries, timeouts and overlap: run-policies.test.ts.)
 */
import { afterAll, describe, it, expect } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pLimit from "p-limit";
import { createWorkspace } from "../helpers/workspace.ts";

const SKILLS = {
  hello: `import { defineSkill, skip, z } from "sundial";
export default defineSkill({
  name: "hello",
  description: "Greets someone and remembers whom.",
  params: z.object({ who: z.string().default("world") }),
  async run(ctx) {
    if (ctx.params.who === "nobody") return skip("no one to greet");
    const text = await ctx.step("greet", async () => "Hello, " + ctx.params.who + "!");
    await ctx.state.set("greeted", ctx.params.who);
    return { title: "Hello", markdown: text };
  },
});
`,
  broken: `import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "broken",
  description: "Always fails.",
  params: z.object({}),
  async run(ctx) {
    await ctx.step("fetch", async () => 1);
    throw new Error("the feed answered 500");
  },
});
`,
};

const job = (id: string, skill: string, extra: Record<string, unknown> = {}) => ({
  id,
  skill,
  cron: "0 9 * * *",
  retries: 0,
  deliver: [{ to: "stdout" }],
  ...extra,
});
const ws = createWorkspace({
  skills: SKILLS,
  schedules: {
    jobs: [
      job("greet", "hello", { params: { who: "Bob" } }),
      job("greet-override", "hello", { params: { who: "Bob" } }),
      job("nobody", "hello", { params: { who: "nobody" } }),
      job("untouched", "hello"),
      job("preview", "hello", { deliver: [{ to: "file", path: "out/{job}-{time}.md" }] }),
      job("broken", "broken"),
    ],
  },
});
afterAll(() => ws.cleanup());

const cli = (...args: string[]) => ws.runCli(["run", ...args], { LOG_LEVEL: "warn" }, 150_000);
// Each process spends seconds booting; a few at a time keep a shared 2-core machine responsive.
const limit = pLimit(4);
const queued = (...args: string[]) => {
  const result = limit(() => cli(...args));
  // Awaited by its test; a failure before then must not surface as an unhandled rejection.
  result.catch(() => undefined);
  return result;
};

// Every run is queued now; each test awaits its own.
const runs = {
  greet: queued("greet"),
  override: queued("greet-override", "--params", '{"who":"Ada"}'),
  nobody: queued("nobody"),
  broken: queued("broken"),
  unknown: queued("no-such-thing"),
  badType: queued("untouched", "--params", '{"who":42}'),
  badJson: queued("untouched", "--params", '{"who":'),
  skill: queued("hello"),
  dryRun: queued("preview", "--dry-run"),
};

/** The job's only run, as stored. */
function onlyRun(jobId: string) {
  const rows = ws.runs(jobId);
  expect(rows, `runs of ${jobId}`).toHaveLength(1);
  return rows[0]!;
}

// Generous: the processes boot on a 2-core machine shared with other test runs.
describe("sundial run", { timeout: 240_000 }, () => {
  it("runs a job: exit 0, a manual row that succeeded, its steps and state recorded", async () => {
    const result = await runs.greet;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Hello, Bob!");
    const run = onlyRun("greet");
    expect(run).toMatchObject({ skill: "hello", trigger: "manual", status: "succeeded", attempt: 1, error: null });
    expect(ws.steps(run.id).map((s) => [s.step_id, s.status, s.result])).toEqual([
      ["greet", "succeeded", '"Hello, Bob!"'],
      ["deliver:0:0:stdout", "succeeded", expect.any(String)],
    ]);
    expect(ws.query("SELECT key, value FROM job_state WHERE job = ?", "greet")).toEqual([
      { key: "greeted", value: '"Bob"' },
    ]);
  });

  it("exits 0 on a skip and records the skill's reason", async () => {
    const result = await runs.nobody;
    expect(result.code, result.stderr).toBe(0);
    expect(onlyRun("nobody")).toMatchObject({ status: "skipped", reason: "no one to greet" });
  });

  it("exits 1 when the skill throws and records the error", async () => {
    const result = await runs.broken;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the feed answered 500");
    expect(onlyRun("broken")).toMatchObject({ status: "failed", attempt: 1, error: "the feed answered 500" });
  });

  it("exits 2 for a name that is neither a job nor a skill, listing both", async () => {
    const result = await runs.unknown;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no job or skill named "no-such-thing" \(jobs: greet, .*; skills: .*hello.*\)/);
    expect(ws.runs("no-such-thing")).toEqual([]);
  });

  it("exits 2 for --params that do not fit the skill or are not JSON, and records nothing", async () => {
    const badType = await runs.badType;
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/--params who: .*expected string, received number/);
    const badJson = await runs.badJson;
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("--params: invalid JSON");
    expect(ws.runs("untouched")).toEqual([]);
  });

  it("lets --params override the job's params", async () => {
    const result = await runs.override;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Hello, Ada!");
    expect(result.stdout).not.toContain("Bob");
    expect(ws.steps(onlyRun("greet-override").id)[0]?.result).toBe('"Hello, Ada!"');
  });

  it("runs a skill by name without a job, with the skill's default params", async () => {
    const result = await runs.skill;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("Hello, world!");
    expect(onlyRun("hello")).toMatchObject({ skill: "hello", trigger: "manual", status: "succeeded" });
  });

  it("--dry-run prints what a file delivery would write, writes nothing, keeps no state, and records a skip", async () => {
    const result = await runs.dryRun;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("dry run: file");
    expect(result.stdout).toContain(join(ws.dataDir, "deliveries", "out", "preview-"));
    expect(result.stdout).toContain("Hello, world!");
    expect(existsSync(join(ws.dataDir, "deliveries"))).toBe(false);
    expect(ws.query("SELECT * FROM job_state WHERE job = ?", "preview")).toEqual([]);
    const run = onlyRun("preview");
    expect(run).toMatchObject({ status: "skipped", dry_run: 1 });
    expect(run.reason).toMatch(/^dry run/);
    expect(ws.query("SELECT * FROM deliveries WHERE run_id = ?", run.id)).toEqual([]);
  });
});
