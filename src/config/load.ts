/**
 * @module load — reads `schedules.json`, validates it, and resolves each job against its skill,
 * its params and the environment. Every problem becomes one line (file, JSON path, what is wrong,
 * how to fix it); a job with a problem is disabled with its reason and the others still run.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import type { Env } from "../types.ts";
import { requiredEnvOf } from "../deliver/index.ts";
import type { Problem } from "../errors.ts";
import type { SkillSet } from "../skill/load.ts";
import { parseDuration } from "../util/duration.ts";
import { resolvePolicies } from "./policies.ts";
import { jsonErrorOffset } from "./json-position.ts";
import {
  fileSettingsSchema,
  jobIssues,
  jobSchema,
  schedulesSchema,
  type JobConfig,
  type JobIssue,
  type SchedulesFile,
} from "./schema.ts";
import { DEFAULT_MODEL, priceOf } from "../integrations/claude/pricing.ts";
import type { Configuration, JobEntry, ReadSchedulesFile, RejectedJob, ResolvedJob, Settings } from "./types.ts";

export type { Configuration, JobEntry, ReadSchedulesFile, RejectedJob, ResolvedJob, Settings } from "./types.ts";

/** The reason of a job switched off by `"enabled": false` (every other reason is a problem). */
export const DISABLED_IN_FILE = "disabled in schedules.json";

/** `jobs[0].deliver[1].channel` from a zod issue path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index ? "." : ""}${String(part)}`))
    .join("");
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}

/** Parses JSON; on failure one line naming the line and column. */
export function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] as string;
    const offset = jsonErrorOffset(text);
    // V8's own wording when it is short; its "…snippet… is not valid JSON" form says ours instead.
    const v8 = message.replace(/ (in JSON )?at position \d+.*$/, "").replace(/\s*\(line \d+ column \d+\)$/, "");
    const ours =
      offset === null || offset >= text.length
        ? "Unexpected end of JSON input"
        : `Unexpected ${JSON.stringify(text[offset])}`;
    const cause = / is not valid JSON$/.test(v8) || !v8 ? ours : v8;
    return { error: `invalid JSON${offset === null ? "" : ` at ${lineAndColumn(text, offset)}`}: ${cause}` };
  }
}

export function zodProblems(file: string, error: z.ZodError, prefix: PropertyKey[] = []): Problem[] {
  return error.issues.map((issue) => {
    const path = jsonPath([...prefix, ...issue.path]);
    if (issue.code === "unrecognized_keys")
      return {
        file,
        path,
        message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
        fix: "remove it or check its spelling",
      };
    return { file, path, message: issue.message };
  });
}

/** The job's id when it has a string one (problems name jobs by id as well as index). */
function rawJobId(raw: unknown): string | undefined {
  const id = typeof raw === "object" && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === "string" ? id : undefined;
}

/** Each job checked on its own: valid, or rejected with its problems. */
function checkJobs(shown: string, rawJobs: readonly unknown[]): JobEntry[] {
  const issues = new Map<number, JobIssue[]>();
  for (const issue of jobIssues(rawJobs)) issues.set(issue.index, [...(issues.get(issue.index) ?? []), issue]);
  return rawJobs.map((raw, index) => {
    const parsed = jobSchema.safeParse(raw);
    const problems = parsed.success ? [] : zodProblems(shown, parsed.error, ["jobs", index]);
    for (const issue of issues.get(index) ?? [])
      problems.push({ file: shown, path: jsonPath(["jobs", index, ...issue.path]), message: issue.message });
    const job = rawJobId(raw);
    if (job !== undefined) for (const problem of problems) problem.job = job;
    return parsed.success && !problems.length ? parsed.data : { rejected: problems, raw };
  });
}

/**
 * Reads and validates `file`; problems name it as `shown` (a path relative to the working
 * directory). A problem inside one job rejects that job only; the file is invalid only when it
 * cannot be read or parsed, or its settings (anything outside `jobs`) are wrong.
 */
export function readSchedules(
  file: string,
  shown = file,
): { schedules: ReadSchedulesFile } | { problems: Problem[]; raw?: unknown } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return {
      problems: [
        {
          file: shown,
          path: "",
          message: missing ? "file not found" : `cannot read: ${String(error)}`,
          fix: missing ? "create it (see README) or set SUNDIAL_SCHEDULES" : undefined,
        },
      ],
    };
  }
  const parsed = parseJson(text);
  if ("error" in parsed)
    return { problems: [{ file: shown, path: "", message: parsed.error, fix: "fix the JSON syntax" }] };
  const settings = fileSettingsSchema.safeParse(parsed.value);
  const rawJobs = (parsed.value as { jobs?: unknown } | null)?.jobs;
  const jobs = checkJobs(shown, Array.isArray(rawJobs) ? rawJobs : []);
  if (!settings.success)
    return {
      problems: [
        ...zodProblems(shown, settings.error),
        ...jobs.flatMap((job) => ("rejected" in job ? job.rejected : [])),
      ],
      raw: parsed.value,
    };
  return { schedules: { ...settings.data, jobs } };
}

/** A job that failed the schema: shown disabled with its problems, never scheduled. */
function rejectedJob(index: number, entry: RejectedJob, schedules: Pick<SchedulesFile, "timezone">): ResolvedJob {
  const raw = (typeof entry.raw === "object" && entry.raw !== null ? entry.raw : {}) as Record<string, unknown>;
  const text = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);
  return {
    id: rawJobId(entry.raw) ?? `jobs[${index}]`,
    skill: text(raw.skill, ""),
    cron: text(raw.cron, ""),
    timezone: text(raw.timezone, schedules.timezone),
    enabled: false,
    disabledReason: reasonOf(entry.rejected),
    disabledBy: "problem",
    params: raw.params ?? {},
    deliver: [],
    model: undefined,
    timeoutMs: 0,
    retries: 0,
    retryBackoffMs: 0,
    overlap: "skip",
    catchUp: "none",
    catchUpWindowMs: 0,
    jitterMs: 0,
  };
}

function reasonOf(problems: Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join("; ");
}

/** True for a job that is off because something is wrong with it (not `"enabled": false`). */
export function disabledByProblem(job: Pick<ResolvedJob, "enabled" | "disabledBy">): boolean {
  return !job.enabled && job.disabledBy !== "file";
}

function resolveJob(
  file: string,
  index: number,
  job: JobConfig,
  schedules: Omit<SchedulesFile, "jobs">,
  skills: SkillSet,
  env: Env,
): { job: ResolvedJob; problems: Problem[] } {
  const skill = skills.skills.get(job.skill);
  const resolved: ResolvedJob = {
    id: job.id,
    skill: job.skill,
    cron: job.cron,
    timezone: job.timezone ?? schedules.timezone,
    enabled: job.enabled,
    disabledReason: job.enabled ? null : DISABLED_IN_FILE,
    ...(job.enabled ? {} : { disabledBy: "file" as const }),
    params: job.params,
    deliver: job.deliver,
    model: job.model,
    ...resolvePolicies([job, schedules.defaults], skill?.definition),
    ...(job.budget ? { budget: job.budget } : {}),
  };
  const problems: Problem[] = [];
  const at = (path: string) => `jobs[${index}]${path}`;
  // A budget needs a price to bound each call by: found now by `check`, not when the run fails.
  const model = job.model ?? env.SUNDIAL_MODEL ?? DEFAULT_MODEL;
  if ((job.budget || schedules.budget) && !priceOf(model)) {
    problems.push({
      file,
      path: at(job.model ? ".model" : ""),
      message: `model "${model}" has no known price, so its budget cannot be kept`,
      fix: `use a model listed in src/integrations/claude/pricing.ts (${job.model ? "jobs[].model" : "SUNDIAL_MODEL"}), or remove the budget`,
    });
  }
  const broken = skills.problems.find((problem) => problem.skill === job.skill);
  if (!skill && broken) {
    problems.push({
      file,
      path: at(".skill"),
      message: `skill "${job.skill}" failed to load (${broken.file})`,
      fix: "fix the skill file (its error is reported with it)",
    });
  } else if (!skill) {
    const known = [...skills.skills.keys()].join(", ") || "none";
    problems.push({
      file,
      path: at(".skill"),
      message: `unknown skill "${job.skill}" (skills found: ${known})`,
      fix: `add skills/${job.skill}.ts (npx sundial new ${job.skill}) or fix the name`,
    });
  } else {
    const params = skill.definition.params.safeParse(job.params);
    if (!params.success) problems.push(...zodProblems(file, params.error, ["jobs", index, "params"]));
    else resolved.params = params.data;
  }
  if (job.enabled && problems.length === 0) {
    const needed = new Set<string>();
    const skillEnv = skill?.definition.env;
    for (const name of typeof skillEnv === "function" ? skillEnv(resolved.params) : (skillEnv ?? [])) needed.add(name);
    for (const target of resolved.deliver) for (const name of requiredEnvOf(target)) needed.add(name);
    for (const name of needed) {
      if (!env[name])
        problems.push({
          file,
          path: at(""),
          message: `needs the environment variable ${name}, which is not set`,
          fix: `set ${name} in .env or the environment (see .env.example)`,
          kind: "env",
        });
    }
  }
  for (const problem of problems) problem.job = job.id;
  if (problems.length && resolved.enabled) {
    resolved.enabled = false;
    resolved.disabledReason = reasonOf(problems);
    resolved.disabledBy = "problem";
  }
  return { job: resolved, problems: job.enabled ? problems : [] };
}

/**
 * For a file that failed validation: the skill, params and environment problems of the jobs that
 * are valid on their own, so one `check` reports everything instead of in rounds.
 */
export function jobProblemsOfInvalidFile(file: string, raw: unknown, skills: SkillSet, env: Env): Problem[] {
  const rawJobs = (raw as { jobs?: unknown } | null)?.jobs;
  if (!Array.isArray(rawJobs)) return [];
  const fallback = schedulesSchema.parse({});
  const entries = checkJobs(file, rawJobs);
  return entries.flatMap((entry, index) =>
    "rejected" in entry ? [] : resolveJob(file, index, entry, fallback, skills, env).problems,
  );
}

function settingsOf(schedules: Omit<SchedulesFile, "jobs">): Settings {
  return {
    maxConcurrentRuns: schedules.maxConcurrentRuns,
    retentionMs: parseDuration(schedules.retention),
    shutdownGraceMs: parseDuration(schedules.shutdownGrace),
    alerts: schedules.alerts,
    ...(schedules.budget ? { budget: schedules.budget } : {}),
  };
}

/** The settings of a file that says nothing (the schema's defaults): what runs while the file is invalid. */
export function defaultSettings(): Settings {
  return settingsOf(schedulesSchema.parse({}));
}

/**
 * Resolves schedules whose settings are valid against the loaded skills and the environment;
 * rejected jobs are kept, disabled, with their problems.
 */
export function resolveConfiguration(
  file: string,
  schedules: ReadSchedulesFile,
  skills: SkillSet,
  env: Env,
): Configuration {
  const problems: Problem[] = [...skills.problems];
  const jobs = schedules.jobs.map((entry, index) => {
    if ("rejected" in entry) {
      problems.push(...entry.rejected);
      return rejectedJob(index, entry, schedules);
    }
    const result = resolveJob(file, index, entry, schedules, skills, env);
    problems.push(...result.problems);
    return result.job;
  });
  const settings = settingsOf(schedules);
  schedules.alerts.forEach((target, a) => {
    for (const name of requiredEnvOf(target)) {
      if (!env[name])
        problems.push({
          file,
          path: `alerts[${a}]`,
          message: `alerts need the environment variable ${name}, which is not set`,
          fix: `set ${name} or remove this alert target`,
          kind: "env",
        });
    }
  });
  return { settings, jobs, problems, fileValid: true };
}
