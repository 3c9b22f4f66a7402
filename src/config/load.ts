/**
 * @module load — reads `schedules.json`, validates it, and resolves each job against its skill,
 * its params and the environment. Every problem becomes one line (file, JSON path, what is wrong,
 * how to fix it); a job with a problem is disabled with its reason and the others still run.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import type { DeliveryAdapter, DeliveryTarget, Env } from "../types.ts";
import type { Problem } from "../errors.ts";
import type { SkillSet } from "../skill/load.ts";
import { parseDuration } from "./duration.ts";
import { jsonErrorOffset } from "./json-position.ts";
import { jobSchema, schedulesSchema, type JobConfig, type SchedulesFile } from "./schema.ts";

export interface ResolvedJob {
  id: string;
  skill: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  disabledReason: string | null;
  params: unknown;
  deliver: DeliveryTarget[];
  model: string | undefined;
  timeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  overlap: "skip" | "queue" | "allow";
  catchUp: "none" | "latest" | "all";
  catchUpWindowMs: number;
  jitterMs: number;
}

export interface Settings {
  maxConcurrentRuns: number;
  retentionMs: number;
  shutdownGraceMs: number;
  alerts: DeliveryTarget[];
}

export interface Configuration {
  settings: Settings;
  jobs: ResolvedJob[];
  problems: Problem[];
  /** False when the file itself could not be used (unreadable, invalid JSON or schema errors). */
  fileValid: boolean;
}

/** `jobs[0].deliver[1].channel` from a zod issue path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === "number" ? `[${part}]` : `${index ? "." : ""}${String(part)}`)).join("");
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
    const ours = offset === null || offset >= text.length ? "Unexpected end of JSON input" : `Unexpected ${JSON.stringify(text[offset])}`;
    const cause = / is not valid JSON$/.test(v8) || !v8 ? ours : v8;
    return { error: `invalid JSON${offset === null ? "" : ` at ${lineAndColumn(text, offset)}`}: ${cause}` };
  }
}

export function zodProblems(file: string, error: z.ZodError, prefix: PropertyKey[] = []): Problem[] {
  return error.issues.map((issue) => {
    const path = jsonPath([...prefix, ...issue.path]);
    if (issue.code === "unrecognized_keys") return { file, path, message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`, fix: "remove it or check its spelling" };
    return { file, path, message: issue.message };
  });
}

/** Reads and validates `file`; problems name it as `shown` (a path relative to the working directory). */
export function readSchedules(file: string, shown = file): { schedules: SchedulesFile } | { problems: Problem[]; raw?: unknown } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    return { problems: [{ file: shown, path: "", message: missing ? "file not found" : `cannot read: ${String(error)}`, fix: missing ? "create it (see README) or set SUNDIAL_SCHEDULES" : undefined }] };
  }
  const parsed = parseJson(text);
  if ("error" in parsed) return { problems: [{ file: shown, path: "", message: parsed.error, fix: "fix the JSON syntax" }] };
  const result = schedulesSchema.safeParse(parsed.value);
  if (!result.success) return { problems: zodProblems(shown, result.error), raw: parsed.value };
  return { schedules: result.data };
}

function resolveJob(file: string, index: number, job: JobConfig, schedules: SchedulesFile, skills: SkillSet, env: Env, adapters: Map<string, DeliveryAdapter>): { job: ResolvedJob; problems: Problem[] } {
  const policy = <K extends keyof SchedulesFile["defaults"]>(key: K) => job[key] ?? schedules.defaults[key];
  const skill = skills.skills.get(job.skill);
  const resolved: ResolvedJob = {
    id: job.id,
    skill: job.skill,
    cron: job.cron,
    timezone: job.timezone ?? schedules.timezone,
    enabled: job.enabled,
    disabledReason: job.enabled ? null : "disabled in schedules.json",
    params: job.params,
    deliver: job.deliver as DeliveryTarget[],
    model: job.model,
    timeoutMs: parseDuration(policy("timeout") ?? skill?.definition.timeout ?? "10m"),
    retries: policy("retries") ?? skill?.definition.retries ?? 2,
    retryBackoffMs: parseDuration(policy("retryBackoff") ?? "30s"),
    overlap: policy("overlap") ?? "skip",
    catchUp: policy("catchUp") ?? "latest",
    catchUpWindowMs: parseDuration(policy("catchUpWindow") ?? "24h"),
    jitterMs: parseDuration(policy("jitter") ?? "0s"),
  };
  const problems: Problem[] = [];
  const at = (path: string) => `jobs[${index}]${path}`;
  if (!skill) {
    const known = [...skills.skills.keys()].join(", ") || "none";
    problems.push({ file, path: at(".skill"), message: `unknown skill "${job.skill}" (skills found: ${known})`, fix: `add skills/${job.skill}.ts (npx sundial new ${job.skill}) or fix the name` });
  } else {
    const params = skill.definition.params.safeParse(job.params);
    if (!params.success) problems.push(...zodProblems(file, params.error, ["jobs", index, "params"]));
    else resolved.params = params.data;
  }
  if (job.enabled && problems.length === 0) {
    const needed = new Set<string>();
    const skillEnv = skill?.definition.env;
    for (const name of typeof skillEnv === "function" ? skillEnv(resolved.params) : (skillEnv ?? [])) needed.add(name);
    resolved.deliver.forEach((target, d) => {
      const adapter = adapters.get(target.to);
      if (!adapter) problems.push({ file, path: at(`.deliver[${d}].to`), message: `no delivery adapter "${target.to}"` });
      else for (const name of adapter.requiredEnv(target)) needed.add(name);
    });
    for (const name of needed) {
      if (!env[name]) problems.push({ file, path: at(""), message: `job "${job.id}" needs the environment variable ${name}, which is not set`, fix: `set ${name} in .env or the environment (see .env.example)`, kind: "env" });
    }
  }
  if (problems.length && resolved.enabled) {
    resolved.enabled = false;
    resolved.disabledReason = problems.map((p) => `${p.path}: ${p.message}`).join("; ");
  }
  return { job: resolved, problems: job.enabled ? problems : [] };
}

/**
 * For a file that failed validation: the skill, params and environment problems of the jobs that
 * are valid on their own, so one `check` reports everything instead of in rounds.
 */
export function jobProblemsOfInvalidFile(file: string, raw: unknown, skills: SkillSet, env: Env, adapters: Map<string, DeliveryAdapter>): Problem[] {
  const rawJobs = (raw as { jobs?: unknown } | null)?.jobs;
  if (!Array.isArray(rawJobs)) return [];
  const fallback = schedulesSchema.parse({});
  return rawJobs.flatMap((rawJob, index) => {
    const job = jobSchema.safeParse(rawJob);
    return job.success ? resolveJob(file, index, job.data, fallback, skills, env, adapters).problems : [];
  });
}

/** Resolves a valid schedules file against the loaded skills and the environment. */
export function resolveConfiguration(file: string, schedules: SchedulesFile, skills: SkillSet, env: Env, adapters: Map<string, DeliveryAdapter>): Configuration {
  const problems: Problem[] = [...skills.problems];
  const jobs = schedules.jobs.map((job, index) => {
    const result = resolveJob(file, index, job, schedules, skills, env, adapters);
    problems.push(...result.problems);
    return result.job;
  });
  const settings: Settings = {
    maxConcurrentRuns: schedules.maxConcurrentRuns,
    retentionMs: parseDuration(schedules.retention),
    shutdownGraceMs: parseDuration(schedules.shutdownGrace),
    alerts: schedules.alerts as DeliveryTarget[],
  };
  schedules.alerts.forEach((target, a) => {
    const adapter = adapters.get(target.to);
    for (const name of adapter?.requiredEnv(target as DeliveryTarget) ?? []) {
      if (!env[name]) problems.push({ file, path: `alerts[${a}]`, message: `alerts need the environment variable ${name}, which is not set`, fix: `set ${name} or remove this alert target`, kind: "env" });
    }
  });
  return { settings, jobs, problems, fileValid: true };
}
