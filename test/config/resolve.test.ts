/**
 * @module resolve.test — `resolveConfiguration`: each job checked against its skill, its params and
 * the environment its skill and deliveries need; a job with a problem is disabled with its reason.
 */
import { describe, it, expect } from "vitest";
import { z } from "zod";
import type { Env } from "../../src/types.ts";
import type { SkillSet } from "../../src/skill/load.ts";
import { resolveConfiguration, type Configuration } from "../../src/config/load.ts";
import { schedulesSchema } from "../../src/config/schema.ts";
import { defineSkill } from "../../src/skill/define.ts";
import { formatProblem } from "../../src/errors.ts";

const FILE = "/srv/sundial/schedules.json";

const hello = defineSkill({
  name: "hello",
  description: "Greets someone.",
  params: z.object({ who: z.string().default("world") }),
  run: (ctx) => ({ title: "Hello", markdown: `Hello, ${ctx.params.who}!` }),
});
const digest = defineSkill({
  name: "digest",
  description: "Needs a key, and a token only for private sources.",
  params: z.object({ private: z.boolean().default(false) }),
  env: (params) => ["DIGEST_API_KEY", ...(params.private ? ["DIGEST_TOKEN"] : [])],
  timeout: "2m",
  retries: 5,
  run: () => ({ title: "Digest", markdown: "…" }),
});

const skillSet = (): SkillSet => ({
  skills: new Map(
    [hello, digest].map((definition) => [
      definition.name,
      { name: definition.name, file: `/srv/sundial/skills/${definition.name}.ts`, definition },
    ]),
  ),
  problems: [],
});

function resolve(raw: unknown, env: Env = {}): Configuration {
  return resolveConfiguration(FILE, schedulesSchema.parse(raw), skillSet(), env);
}

const job = (id: string, extra: Record<string, unknown> = {}) => ({ id, skill: "hello", cron: "0 9 * * *", ...extra });

describe("resolveConfiguration", () => {
  it("resolves a valid job: params parsed by the skill, policies from job, defaults, skill, then built-ins", () => {
    const configuration = resolve(
      {
        timezone: "Europe/Berlin",
        defaults: { retries: 4, retryBackoff: "100ms" },
        jobs: [job("a", { timeout: "1s" }), job("b", { skill: "digest", timezone: "Asia/Tokyo" })],
      },
      { DIGEST_API_KEY: "k" },
    );
    expect(configuration.problems).toEqual([]);
    const [a, b] = configuration.jobs;
    expect(a).toMatchObject({
      id: "a",
      enabled: true,
      disabledReason: null,
      params: { who: "world" },
      timezone: "Europe/Berlin",
      timeoutMs: 1000,
      retries: 4,
      retryBackoffMs: 100,
      overlap: "skip",
      catchUp: "latest",
    });
    expect(b).toMatchObject({ timezone: "Asia/Tokyo", timeoutMs: 120_000 });
  });

  it("reports an unknown skill at jobs[N].skill, listing the skills found", () => {
    const configuration = resolve({ jobs: [job("a"), job("b", { skill: "helo" })] });
    expect(configuration.problems.map(formatProblem)).toEqual([
      `${FILE} jobs[1] ("b").skill: unknown skill "helo" (skills found: hello, digest) — add skills/helo.ts (npx sundial new helo) or fix the name`,
    ]);
    expect(configuration.jobs[1]).toMatchObject({
      enabled: false,
      disabledReason: expect.stringContaining('jobs[1].skill: unknown skill "helo"'),
    });
    expect(configuration.jobs[0]?.enabled).toBe(true);
  });

  it("reports a param of the wrong type at its JSON path", () => {
    const configuration = resolve({ jobs: [job("a"), job("b"), job("c", { params: { who: 42 } })] });
    expect(configuration.problems).toHaveLength(1);
    expect(configuration.problems[0]).toMatchObject({
      file: FILE,
      path: "jobs[2].params.who",
      message: expect.stringMatching(/expected string, received number/),
    });
    expect(configuration.jobs[2]?.enabled).toBe(false);
  });

  it("names a variable the skill needs that is not set, and how to fix it", () => {
    const configuration = resolve(
      { jobs: [job("a", { skill: "digest", params: { private: true } })] },
      { DIGEST_API_KEY: "k" },
    );
    expect(configuration.problems).toEqual([
      {
        file: FILE,
        path: "jobs[0]",
        job: "a",
        message: "needs the environment variable DIGEST_TOKEN, which is not set",
        fix: "set DIGEST_TOKEN in .env or the environment (see .env.example)",
        kind: "env",
      },
    ]);
    expect(configuration.jobs[0]?.disabledReason).toContain("DIGEST_TOKEN");
    expect(
      resolve(
        { jobs: [job("a", { skill: "digest", params: { private: true } })] },
        { DIGEST_API_KEY: "k", DIGEST_TOKEN: "t" },
      ).problems,
    ).toEqual([]);
  });

  it("names the variable an enabled delivery needs: a webhook's variable, or DISCORD_TOKEN for a channel", () => {
    const configuration = resolve({
      jobs: [
        job("hook", { deliver: [{ to: "stdout" }, { to: "discord", webhookEnv: "DIGEST_WEBHOOK" }] }),
        job("bot", { deliver: [{ to: "discord", channel: "123456789012345678" }] }),
      ],
    });
    expect(configuration.problems.map(formatProblem)).toEqual([
      `${FILE} jobs[0] ("hook"): needs the environment variable DIGEST_WEBHOOK, which is not set — set DIGEST_WEBHOOK in .env or the environment (see .env.example)`,
      `${FILE} jobs[1] ("bot"): needs the environment variable DISCORD_TOKEN, which is not set — set DISCORD_TOKEN in .env or the environment (see .env.example)`,
    ]);
    expect(configuration.problems.every((p) => p.kind === "env" && p.fix?.startsWith("set "))).toBe(true);
    expect(
      resolve(
        { jobs: [job("hook", { deliver: [{ to: "discord", webhookEnv: "DIGEST_WEBHOOK" }] })] },
        { DIGEST_WEBHOOK: "https://127.0.0.1/hook" },
      ).problems,
    ).toEqual([]);
  });

  it("asks nothing of a job disabled in schedules.json, and says why it does not run", () => {
    const configuration = resolve({ jobs: [job("off", { enabled: false, skill: "digest" })] });
    expect(configuration.problems).toEqual([]);
    expect(configuration.jobs[0]).toMatchObject({ enabled: false, disabledReason: "disabled in schedules.json" });
  });

  it("reports an alert target whose variable is not set", () => {
    const configuration = resolve({ alerts: [{ to: "discord", webhookEnv: "ALERT_WEBHOOK" }], jobs: [job("a")] });
    expect(configuration.problems).toEqual([
      expect.objectContaining({ path: "alerts[0]", message: expect.stringContaining("ALERT_WEBHOOK"), kind: "env" }),
    ]);
  });

  it("keeps the problems of skill files it was given", () => {
    const skills = skillSet();
    skills.problems.push({ file: "skills/broken.ts", path: "", message: "skill failed to load: boom" });
    const configuration = resolveConfiguration(FILE, schedulesSchema.parse({ jobs: [] }), skills, {});
    expect(configuration.problems.map(formatProblem)).toEqual(["skills/broken.ts: skill failed to load: boom"]);
  });
});
