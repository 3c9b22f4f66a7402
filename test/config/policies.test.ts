/**
 * @module policies.test — each run policy's default is written once (`POLICY_DEFAULTS`), and the
 * settings of a file that says nothing come from the schema: what a job, the ad-hoc run and an
 * invalid file fall back to is read from there, not restated. A disabled job says why by a code.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defaultSettings, disabledByProblem, resolveConfiguration, type ResolvedJob } from "../../src/config/load.ts";
import { AD_HOC_POLICY_DEFAULTS, POLICY_DEFAULTS, resolvePolicies } from "../../src/config/policies.ts";
import { parseDuration } from "../../src/util/duration.ts";
import { schedulesSchema } from "../../src/config/schema.ts";
import { defineSkill } from "../../src/skill/define.ts";
import type { SkillSet } from "../../src/skill/load.ts";

const plain = defineSkill({
  name: "plain",
  description: "No policies of its own.",
  params: z.object({}),
  run: () => undefined,
});
const skills: SkillSet = {
  skills: new Map([["plain", { name: "plain", file: "/x/skills/plain.ts", definition: plain }]]),
  problems: [],
};

describe("policy defaults", () => {
  it("are what a job that sets nothing gets", () => {
    const [job] = resolveConfiguration(
      "schedules.json",
      schedulesSchema.parse({ jobs: [{ id: "a", skill: "plain", cron: "@daily" }] }),
      skills,
      {},
    ).jobs;
    expect(job).toMatchObject({
      timeoutMs: parseDuration(POLICY_DEFAULTS.timeout),
      retries: POLICY_DEFAULTS.retries,
      retryBackoffMs: parseDuration(POLICY_DEFAULTS.retryBackoff),
      overlap: POLICY_DEFAULTS.overlap,
      catchUp: POLICY_DEFAULTS.catchUp,
      catchUpWindowMs: parseDuration(POLICY_DEFAULTS.catchUpWindow),
      jitterMs: parseDuration(POLICY_DEFAULTS.jitter),
    });
  });

  it("give way to the job, then the file's defaults, then the skill (timeout, retries)", () => {
    const skill = { timeout: "2m", retries: 5 };
    expect(resolvePolicies([{ retries: 1 }, { retries: 3, timeout: "1m" }], skill)).toMatchObject({
      retries: 1,
      timeoutMs: 60_000,
    });
    expect(resolvePolicies([{}, {}], skill)).toMatchObject({ retries: 5, timeoutMs: 120_000, overlap: "skip" });
  });

  it("of a run with no job: no catch-up, overlap allowed, the skill's retries or none", () => {
    expect(resolvePolicies([], {}, AD_HOC_POLICY_DEFAULTS)).toEqual({
      timeoutMs: 600_000,
      retries: 0,
      retryBackoffMs: 1000,
      overlap: "allow",
      catchUp: "none",
      catchUpWindowMs: 0,
      jitterMs: 0,
    });
    expect(resolvePolicies([], { retries: 2, timeout: "5m" }, AD_HOC_POLICY_DEFAULTS)).toMatchObject({
      retries: 2,
      timeoutMs: 300_000,
    });
  });

  it("of the file's settings are the schema's, used while the file is invalid", () => {
    expect(defaultSettings()).toEqual({
      maxConcurrentRuns: 16,
      retentionMs: 90 * 86_400_000,
      shutdownGraceMs: 30_000,
      alerts: [],
    });
  });
});

describe("a disabled job", () => {
  it("says by a code whether the file switched it off or a problem did, whatever the reason's text", () => {
    const file = {
      jobs: [
        { id: "off", skill: "plain", cron: "@daily", enabled: false },
        { id: "broken", skill: "missing", cron: "@daily" },
      ],
    };
    const [off, broken] = resolveConfiguration("schedules.json", schedulesSchema.parse(file), skills, {}).jobs;
    expect(off).toMatchObject({ enabled: false, disabledBy: "file" });
    expect(broken).toMatchObject({ enabled: false, disabledBy: "problem" });
    expect(disabledByProblem(off!)).toBe(false);
    expect(disabledByProblem(broken!)).toBe(true);
    const reworded: ResolvedJob = { ...off!, disabledReason: "reworded" };
    expect(disabledByProblem(reworded)).toBe(false);
  });
});
