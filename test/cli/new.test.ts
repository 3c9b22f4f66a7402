/**
 * @module new.test — `sundial new <name>` writes a skill that passes `check` and runs as it is, and
 * never overwrites an existing skill.
 */
import { afterAll, beforeAll, describe, it, expect } from "vitest";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, type CliResult } from "../helpers/workspace.ts";

const ws = createWorkspace({
  schedules: {
    jobs: [{ id: "hello-world-daily", skill: "hello-world", cron: "0 9 * * *", deliver: [{ to: "stdout" }] }],
  },
});
const file = join(ws.dir, "skills", "hello-world.ts");
let created: CliResult;
let original = "";
/** The skill as its author changed it before `new` ran again: differs from the template, so an overwrite shows. */
let edited = "";
let after: Record<"check" | "run" | "again" | "invalid", CliResult>;

beforeAll(async () => {
  created = await ws.runCli(["new", "hello-world"], {}, 150_000);
  original = existsSync(file) ? readFileSync(file, "utf8") : "";
  if (original) appendFileSync(file, "\n// the author's own edit, which `new` must never overwrite\n");
  edited = existsSync(file) ? readFileSync(file, "utf8") : "";
  const [check, run, again, invalid] = await Promise.all([
    ws.runCli(["check"], {}, 150_000),
    ws.runCli(["run", "hello-world"], { LOG_LEVEL: "warn" }, 150_000),
    ws.runCli(["new", "hello-world"], {}, 150_000),
    ws.runCli(["new", "Hello_World"], {}, 150_000),
  ]);
  after = { check: check!, run: run!, again: again!, invalid: invalid! };
}, 300_000);
afterAll(() => ws.cleanup());

describe("sundial new", () => {
  it('writes skills/<name>.ts, a skill named after its file that imports from "sundial"', () => {
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("wrote skills/hello-world.ts");
    expect(original).toContain('from "sundial"');
    expect(original).toContain('name: "hello-world"');
    expect(original).toContain("export default defineSkill(");
  });

  it("writes a skill that passes check with a job using it", () => {
    expect(after.check.stderr).not.toMatch(/problem/);
    expect(after.check.code).toBe(0);
    expect(after.check.stdout).toMatch(/^ok: 1 job\(s\), 1 enabled; 1 skill\(s\): hello-world/);
  });

  it("writes a skill that runs as it is", () => {
    expect(after.run.code, after.run.stderr).toBe(0);
    expect(ws.runs("hello-world")).toEqual([expect.objectContaining({ trigger: "manual", status: "succeeded" })]);
  });

  it("writes a skill whose first run greets the world", () => {
    expect(after.run.stdout).toContain("Hello, world!");
  });

  it("exits 2 for a name that already exists, and leaves the file alone", () => {
    expect(after.again.code).toBe(2);
    expect(after.again.stderr).toContain('skill "hello-world" already exists');
    expect(edited).not.toBe(original);
    expect(readFileSync(file, "utf8")).toBe(edited);
  });

  it("exits 2 for an invalid name, and writes nothing", () => {
    expect(after.invalid.code).toBe(2);
    expect(after.invalid.stderr).toContain(
      '"Hello_World" is not a valid skill name; use lowercase letters, digits and hyphens',
    );
    expect(existsSync(join(ws.dir, "skills", "Hello_World.ts"))).toBe(false);
  });
});
