/**
 * @module check.test — `sundial check` as a process: exit 2 with one line per problem (file, JSON
 * path, what is wrong, how to fix it) for schedules.json, skill files and the environment; exit 0
 * and "ok:" for a good workspace.
 */
import { afterAll, describe, it, expect } from "vitest";
import { createWorkspace, type CliResult, type Workspace } from "../helpers/workspace.ts";

const skill = (name: string, extra = "") => `import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "${name}",
  description: "test skill",
  params: z.object({ who: z.string().default("world") }),
  ${extra}
  run: (ctx) => ({ title: "Hello", markdown: "Hello, " + ctx.params.who }),
});
`;
const SKILLS = { hello: skill("hello"), needs: skill("needs", 'env: ["CHECK_API_KEY"],') };
const job = (id: string, extra: Record<string, unknown> = {}) => ({ id, skill: "hello", cron: "0 9 * * *", ...extra });

const workspaces: Workspace[] = [];
function check(options: {
  skills?: Record<string, string>;
  schedules: unknown;
  env?: Record<string, string>;
}): Promise<CliResult & { ws: Workspace }> {
  const ws = createWorkspace({ skills: options.skills ?? SKILLS, schedules: options.schedules });
  workspaces.push(ws);
  const result = ws.runCli(["check"], options.env, 150_000).then((done) => ({ ...done, ws }));
  // Awaited by its test; a failure before then must not surface as an unhandled rejection.
  result.catch(() => undefined);
  return result;
}
afterAll(async () => {
  await Promise.all(workspaces.map((ws) => ws.cleanup()));
});

/** Lines that name a file, with the workspace directory removed (a file may be shown absolute or relative). */
const problemLines = (result: CliResult & { ws: Workspace }) =>
  `${result.stderr}\n${result.stdout}`
    .split("\n")
    .map((line) => line.replaceAll(`${result.ws.dir}/`, ""))
    .filter((line) => /^(schedules\.json|skills\/)/.test(line));
const file = "schedules.json";

// Every process starts at once: each takes seconds to boot, and the results do not depend on each other.
const schemaBroken = check({
  schedules: {
    crons: "0 9 * * *",
    jobs: [
      job("a", { cron: "61 * * * *" }),
      job("b", { timezone: "Mars/Olympus" }),
      job("c", { timeout: "10 minutes" }),
      job("a"),
      job("d", { deliver: [{ to: "discord" }] }),
      job("e", { crons: "0 9 * * *" }),
    ],
  },
});
const jobsBroken = check({
  skills: {
    ...SKILLS,
    throws: `throw new Error("cannot reach the config server");\n`,
    "no-default": `export const x = 1;\n`,
    mismatch: skill("something-else"),
    syntax: `import { defineSkill } from "sundial";\nexport default defineSkill({\n  name: "syntax",,\n});\n`,
  },
  schedules: {
    jobs: [
      job("ok"),
      job("typo", { skill: "helo" }),
      job("wrong-type", { params: { who: 42 } }),
      job("no-key", { skill: "needs" }),
      job("no-hook", { deliver: [{ to: "discord", webhookEnv: "CHECK_WEBHOOK" }] }),
      job("off", { skill: "needs", enabled: false }),
    ],
  },
});
const badJson = check({
  schedules: '{\n  "jobs": [\n    { "id": "a" "skill": "hello", "cron": "0 9 * * *" }\n  ]\n}\n',
});
const good = check({
  schedules: {
    jobs: [
      job("greet", { deliver: [{ to: "stdout" }] }),
      job("keyed", { skill: "needs", deliver: [{ to: "discord", webhookEnv: "CHECK_WEBHOOK" }] }),
      job("off", { enabled: false }),
    ],
  },
  env: { CHECK_API_KEY: "test-key", CHECK_WEBHOOK: "http://127.0.0.1:9/webhook" },
});
const everything = check({
  schedules: {
    crons: 1,
    jobs: [
      job("bad-cron", { cron: "61 * * * *" }),
      job("typo", { skill: "helo" }),
      job("wrong-type", { params: { who: 42 } }),
      job("bad-cron"),
      job("bad-zone", { timezone: "Mars/Olympus" }),
      job("bad-duration", { retryBackoff: "5" }),
      job("no-target", { deliver: [{ to: "discord" }] }),
      job("no-key", { skill: "needs" }),
    ],
  },
});

// Generous: the processes boot on a 2-core machine shared with other test runs.
describe("sundial check", { timeout: 180_000 }, () => {
  it("reports each schema problem on its own line with file and JSON path, and exits 2", async () => {
    const result = await schemaBroken;
    expect(result.code).toBe(2);
    const lines = problemLines(result);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^schedules\\.json jobs\\[0\\] \\("a"\\)\\.cron: invalid cron pattern "61 \\* \\* \\* \\*": .*61.*; write 5 fields`,
          ),
        ),
        `${file} jobs[1] ("b").timezone: unknown time zone "Mars/Olympus"; use an IANA name such as "UTC" or "Europe/Berlin"`,
        `${file} jobs[2] ("c").timeout: expected a duration like "90s", "10m" or "1h"`,
        `${file} jobs[3] ("a").id: duplicate job id "a" (also jobs[0]); job ids must be unique, so this one does not run`,
        `${file} jobs[4] ("d").deliver[0]: give either "channel" (with DISCORD_TOKEN) or "webhookEnv", not both or neither`,
        `${file} jobs[5] ("e"): unknown key "crons" — remove it or check its spelling`,
        `${file}: unknown key "crons" — remove it or check its spelling`,
      ]),
    );
    expect(lines).toHaveLength(7);
    expect(result.stderr).toContain("7 problem(s) found");
    expect(result.stdout).not.toContain("ok:");
  });

  it("reports unknown skills, wrong params, missing variables and broken skill files, and exits 2", async () => {
    const result = await jobsBroken;
    expect(result.code).toBe(2);
    const lines = problemLines(result);
    expect(lines).toEqual(
      expect.arrayContaining([
        `${file} jobs[1] ("typo").skill: unknown skill "helo" (skills found: hello, needs) — add skills/helo.ts (npx sundial new helo) or fix the name`,
        expect.stringMatching(
          new RegExp(
            `^schedules\\.json jobs\\[2\\] \\("wrong-type"\\)\\.params\\.who: .*expected string, received number`,
          ),
        ),
        `${file} jobs[3] ("no-key"): needs the environment variable CHECK_API_KEY, which is not set — set CHECK_API_KEY in .env or the environment (see .env.example)`,
        `${file} jobs[4] ("no-hook"): needs the environment variable CHECK_WEBHOOK, which is not set — set CHECK_WEBHOOK in .env or the environment (see .env.example)`,
        "skills/syntax.ts: skill failed to load: Transform failed with 1 error:",
        expect.stringMatching(/^skills\/throws\.ts: skill failed to load: cannot reach the config server/),
        "skills/no-default.ts: skill has no default export; write `export default defineSkill({ … })`",
        'skills/mismatch.ts name: skill is named "something-else" but its file says "mismatch" — rename one so they match',
      ]),
    );
    // The disabled job needs CHECK_API_KEY too, but a job that does not run asks nothing.
    expect(lines).toHaveLength(8);
    // A compile error is shown whole: the line and column of the error follow its first line.
    expect(result.stderr).toMatch(
      /skills\/syntax\.ts: skill failed to load: Transform failed with 1 error:\n\s+\S*syntax\.ts:3:\d+: ERROR: /,
    );
  });

  it("names the line and column of invalid JSON, and exits 2", async () => {
    const result = await badJson;
    expect(result.code).toBe(2);
    expect(problemLines(result)).toEqual([
      `${file}: invalid JSON at line 3, column 17: Expected ',' or '}' after property value — fix the JSON syntax`,
    ]);
  });

  it("says ok and exits 0 when the file, the skills and the environment are good", async () => {
    const result = await good;
    expect(result.stderr).not.toMatch(/problem/);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("ok: 3 job(s), 2 enabled; 2 skill(s): hello, needs\n");
  });

  it("reports every kind of problem in one pass, one line each", async () => {
    const result = await everything;
    expect(result.code).toBe(2);
    const paths = problemLines(result).map(
      (line) => /^schedules\.json( \S+)?:/.exec(line.replace(/ \("[^"]*"\)/, ""))?.[1]?.trim() ?? "",
    );
    expect(paths.sort()).toEqual(
      [
        "",
        "jobs[0].cron",
        "jobs[1].skill",
        "jobs[2].params.who",
        "jobs[3].id",
        "jobs[4].timezone",
        "jobs[5].retryBackoff",
        "jobs[6].deliver[0]",
        "jobs[7]",
      ].sort(),
    );
  });
});
