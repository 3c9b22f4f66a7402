/**
 * `budget` in schedules.json: validated at the top level and on jobs (positive dollars, known keys,
 * at least one cap), and a budgeted job whose model has no known price fails `check` (the job is
 * disabled with the reason) instead of failing when it runs.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { readSchedules, resolveConfiguration } from "../../src/config/load.ts";
import { schedulesSchema } from "../../src/config/schema.ts";
import { defineSkill } from "../../src/skill/define.ts";
import { formatProblem } from "../../src/errors.ts";
import type { Env } from "../../src/types.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const hello = defineSkill({
  name: "hello",
  description: "d",
  params: z.object({}),
  run: () => ({ title: "t", markdown: "m" }),
});
const skills = {
  skills: new Map([["hello", { name: "hello", file: "/x/skills/hello.ts", definition: hello }]]),
  problems: [],
};
const resolve = (raw: unknown, env: Env = {}) =>
  resolveConfiguration("schedules.json", schedulesSchema.parse(raw), skills, env);
const job = (extra: Record<string, unknown> = {}) => ({ id: "a", skill: "hello", cron: "@daily", ...extra });

function read(raw: unknown) {
  const dir = mkdtempSync(join(tmpdir(), "sundial-budget-"));
  writeFileSync(join(dir, "schedules.json"), JSON.stringify(raw));
  return readSchedules(join(dir, "schedules.json"), "schedules.json");
}

describe("budget configuration", () => {
  it("accepts budgets at the top level and on jobs and hands them to the runner", () => {
    const config = resolve({ budget: { perDay: 5, perMonth: 50 }, jobs: [job({ budget: { perRun: 0.5 } })] });
    expect(config.problems).toEqual([]);
    expect(config.settings.budget).toEqual({ perDay: 5, perMonth: 50 });
    expect(config.jobs[0]?.budget).toEqual({ perRun: 0.5 });
  });

  it("rejects a negative or zero cap, an unknown key and an empty budget, naming the JSON path", () => {
    const top = read({ budget: { perDay: -1 }, jobs: [] });
    expect("problems" in top && top.problems.map(formatProblem).join("\n")).toMatch(/budget\.perDay/);
    const jobs = read({
      jobs: [job({ budget: { perday: 5 } }), job({ id: "b", budget: {} }), job({ id: "c", budget: { perRun: 0 } })],
    });
    expect("schedules" in jobs).toBe(true);
    const entries = "schedules" in jobs ? jobs.schedules.jobs : [];
    const messages = entries.map((entry) =>
      "rejected" in entry ? entry.rejected.map(formatProblem).join("; ") : "ok",
    );
    expect(messages[0]).toMatch(/jobs\[0\] \("a"\)\.budget: unknown key "perday"/);
    expect(messages[1]).toMatch(/jobs\[1\] \("b"\)\.budget: give at least one of "perRun", "perDay", "perMonth"/);
    expect(messages[2]).toMatch(/jobs\[2\] \("c"\)\.budget\.perRun: /);
  });

  it("fails check for a budgeted job whose model has no known price, and only for budgeted jobs", () => {
    const config = resolve({
      jobs: [job({ model: "claude-unknown-9", budget: { perDay: 1 } }), job({ id: "b", model: "claude-unknown-9" })],
    });
    expect(config.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/jobs\[0\] \("a"\)\.model: model "claude-unknown-9" has no known price/),
    ]);
    expect(config.jobs[0]?.enabled).toBe(false);
    expect(config.jobs[1]?.enabled).toBe(true);
    // The top-level budget applies to every job, so SUNDIAL_MODEL must be priced too.
    const top = resolve({ budget: { perMonth: 10 }, jobs: [job()] }, { SUNDIAL_MODEL: "claude-unknown-9" });
    expect(top.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/jobs\[0\].*"claude-unknown-9" has no known price.*SUNDIAL_MODEL/),
    ]);
  });
});
