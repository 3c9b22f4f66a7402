/**
 * @module schedules.test — `readSchedules`: every schema problem in schedules.json becomes one
 * problem naming the file, the JSON path and what is wrong (and unknown keys are errors).
 */
import { afterAll, beforeAll, describe, it, expect } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSchedules } from "../../src/config/load.ts";
import { formatProblem, type Problem } from "../../src/errors.ts";

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
let dir = "";
let count = 0;
beforeAll(() => {
  mkdirSync(join(repoRoot, ".tmp"), { recursive: true });
  dir = mkdtempSync(join(repoRoot, ".tmp", "config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (extra: Record<string, unknown> = {}) => ({
  id: `job-${count}`,
  skill: "hello",
  cron: "0 9 * * *",
  ...extra,
});

/** Writes `content` to a fresh file and returns its problems, the file's and its rejected jobs' (none when it is valid). */
function problemsOf(content: unknown): { file: string; problems: Problem[] } {
  const file = join(dir, `schedules-${++count}.json`);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  const result = readSchedules(file);
  return {
    file,
    problems:
      "problems" in result
        ? result.problems
        : result.schedules.jobs.flatMap((entry) => ("rejected" in entry ? entry.rejected : [])),
  };
}

function onlyProblem(content: unknown): Problem & { line: string } {
  const { file, problems } = problemsOf(content);
  expect(problems, JSON.stringify(problems)).toHaveLength(1);
  const problem = problems[0] as Problem;
  expect(problem.file).toBe(file);
  return { ...problem, line: formatProblem(problem) };
}

describe("readSchedules", () => {
  it("accepts a valid file and fills in the defaults", () => {
    const file = join(dir, "valid.json");
    writeFileSync(
      file,
      JSON.stringify({
        $schema: "./schedules.schema.json",
        jobs: [job({ deliver: [{ to: "stdout" }, { to: "discord", webhookEnv: "DIGEST_WEBHOOK" }] })],
      }),
    );
    const result = readSchedules(file);
    if (!("schedules" in result)) throw new Error(JSON.stringify(result.problems));
    expect(result.schedules.timezone).toBe("UTC");
    expect(result.schedules.jobs[0]).toMatchObject({
      enabled: true,
      params: {},
      deliver: [{ to: "stdout" }, { to: "discord", webhookEnv: "DIGEST_WEBHOOK" }],
    });
  });

  it("reports a missing file and how to fix it", () => {
    const file = join(dir, "absent.json");
    const result = readSchedules(file);
    expect(result).toEqual({
      problems: [
        expect.objectContaining({ file, message: "file not found", fix: expect.stringContaining("SUNDIAL_SCHEDULES") }),
      ],
    });
  });

  it("reports invalid JSON with its line and column", () => {
    const problem = onlyProblem('{\n  "jobs": [\n    { "id": "a" "skill": "hello" }\n  ]\n}');
    expect(problem.path).toBe("");
    expect(problem.message).toMatch(/^invalid JSON at line 3, column 17: /);
    expect(problem.fix).toBe("fix the JSON syntax");
  });

  it("reports a bad cron pattern at jobs[0].cron with croner's reason and the accepted forms", () => {
    const problem = onlyProblem({ jobs: [job({ cron: "61 * * * *" })] });
    expect(problem.path).toBe("jobs[0].cron");
    expect(problem.message).toMatch(/^invalid cron pattern "61 \* \* \* \*": .*minute.*61.*write 5 fields/);
  });

  it("accepts 6-field (seconds first) patterns and nicknames", () => {
    expect(problemsOf({ jobs: [job({ cron: "* * * * * *" }), job({ id: "b", cron: "@daily" })] }).problems).toEqual([]);
  });

  it("reports an unknown key in a job (a typo) as unknown, with a fix", () => {
    const problem = onlyProblem({ jobs: [job(), job({ id: "second", crons: "0 9 * * *" })] });
    expect(problem.line).toBe(
      `${problem.file} jobs[1] ("second"): unknown key "crons" — remove it or check its spelling`,
    );
  });

  it("reports an unknown key at the top level and in defaults", () => {
    expect(onlyProblem({ jobs: [], job: [] }).message).toBe('unknown key "job"');
    expect(onlyProblem({ defaults: { retry: 2 } }).path).toBe("defaults");
  });

  it("reports a bad time zone, in a job and at the top level", () => {
    const inJob = onlyProblem({ jobs: [job({ timezone: "Mars/Olympus" })] });
    expect(inJob.path).toBe("jobs[0].timezone");
    expect(inJob.message).toContain("unknown time zone");
    expect(onlyProblem({ timezone: "EST5EDT6" }).path).toBe("timezone");
  });

  it("reports a bad duration wherever one is expected", () => {
    expect(onlyProblem({ jobs: [job({ timeout: "10 minutes" })] })).toMatchObject({
      path: "jobs[0].timeout",
      message: 'expected a duration like "90s", "10m" or "1h"',
    });
    expect(onlyProblem({ defaults: { retryBackoff: "5" } }).path).toBe("defaults.retryBackoff");
    expect(onlyProblem({ shutdownGrace: "soon" }).path).toBe("shutdownGrace");
  });

  it("reports a discord target with neither channel nor webhookEnv, or both", () => {
    const neither = onlyProblem({ jobs: [job({ deliver: [{ to: "stdout" }, { to: "discord" }] })] });
    expect(neither.path).toBe("jobs[0].deliver[1]");
    expect(neither.message).toContain('give either "channel" (with DISCORD_TOKEN) or "webhookEnv"');
    expect(
      onlyProblem({ jobs: [job({ deliver: [{ to: "discord", channel: "123456789012345678", webhookEnv: "HOOK" }] })] })
        .path,
    ).toBe("jobs[0].deliver[0]");
  });

  it("never takes a webhook URL in place of a variable name", () => {
    const problem = onlyProblem({
      jobs: [job({ deliver: [{ to: "discord", webhookEnv: "https://chat.example.test/api/webhooks/1/abc" }] })],
    });
    expect(problem.path).toBe("jobs[0].deliver[0].webhookEnv");
    expect(problem.message).toContain("NAME of an environment variable");
  });

  it("reports a duplicate job id at the second occurrence, naming the first", () => {
    const problem = onlyProblem({ jobs: [job({ id: "a" }), job({ id: "b" }), job({ id: "c" }), job({ id: "a" })] });
    expect(problem.path).toBe("jobs[3].id");
    expect(problem.message).toBe(
      'duplicate job id "a" (also jobs[0]); job ids must be unique, so this one does not run',
    );
  });

  it("reports every schema problem of one file at once, one line each", () => {
    const { file, problems } = problemsOf({
      crons: 1,
      jobs: [
        job({ id: "a", cron: "bad" }),
        job({ id: "b", timezone: "Nowhere/Land" }),
        job({ id: "c", timeout: "ten" }),
        job({ id: "a" }),
        job({ id: "d", deliver: [{ to: "discord" }] }),
      ],
    });
    expect(problems.map((p) => p.path).sort()).toEqual([
      "",
      "jobs[0].cron",
      "jobs[1].timezone",
      "jobs[2].timeout",
      "jobs[3].id",
      "jobs[4].deliver[0]",
    ]);
    for (const problem of problems) {
      expect(problem.file).toBe(file);
      expect(formatProblem(problem)).not.toContain("\n");
    }
  });

  it("reports a duplicate id even when another job has a wrong type", () => {
    const { problems } = problemsOf({ jobs: [job({ id: "a" }), job({ id: "a" }), job({ id: "c", retries: "3" })] });
    expect(problems.map((p) => p.path).sort()).toEqual(["jobs[1].id", "jobs[2].retries"]);
  });

  it("rejects a job with a bad cron, zone or duplicate id on its own: the file stays valid and the other jobs are kept", () => {
    const file = join(dir, "per-job.json");
    writeFileSync(
      file,
      JSON.stringify({
        jobs: [
          job({ id: "good" }),
          job({ id: "cron", cron: "61 * * * *" }),
          job({ id: "zone", timezone: "Mars/Olympus" }),
          job({ id: "good", cron: "@daily" }),
        ],
      }),
    );
    const result = readSchedules(file);
    if (!("schedules" in result))
      throw new Error(`the whole file was rejected: ${result.problems.map(formatProblem).join("; ")}`);
    const [good, cron, zone, duplicate] = result.schedules.jobs;
    expect(good).toMatchObject({ id: "good", cron: "0 9 * * *" });
    for (const [entry, path] of [
      [cron, "jobs[1].cron"],
      [zone, "jobs[2].timezone"],
      [duplicate, "jobs[3].id"],
    ] as const) {
      expect(entry && "rejected" in entry ? entry.rejected.map((p) => p.path) : entry).toEqual([path]);
    }
    expect(zone && "rejected" in zone ? formatProblem(zone.rejected[0]!) : "").toBe(
      `${file} jobs[2] ("zone").timezone: unknown time zone "Mars/Olympus"; use an IANA name such as "UTC" or "Europe/Berlin"`,
    );
  });

  it("bounds every duration that becomes a timer by Node's limit (24.8 days), which would otherwise fire at once", () => {
    expect(onlyProblem({ jobs: [job({ timeout: "25d" })] })).toMatchObject({
      path: "jobs[0].timeout",
      message: 'at most "24d" (Node timers cannot wait longer than 24.8 days)',
    });
    expect(onlyProblem({ jobs: [job({ jitter: "2147483648ms" })] }).path).toBe("jobs[0].jitter");
    expect(onlyProblem({ defaults: { retryBackoff: "600h" } }).path).toBe("defaults.retryBackoff");
    expect(onlyProblem({ shutdownGrace: "30d" }).path).toBe("shutdownGrace");
    expect(
      problemsOf({
        jobs: [job({ timeout: "24d", jitter: "2147483647ms" })],
        retention: "365d",
        defaults: { catchUpWindow: "90d" },
      }).problems,
    ).toEqual([]);
  });
});
