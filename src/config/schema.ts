/**
 * @module schema — the zod schema of `schedules.json`. It validates the file and generates
 * `schedules.schema.json` (a test fails if the committed copy drifts from it).
 */
import { Cron } from "croner";
import { z } from "zod";
import { alertTargetNames, deliveryTargetSchema, notForAlerts } from "../deliver/index.ts";
import { DURATION_PATTERN, MAX_TIMER_MS, parseDuration } from "../util/duration.ts";

/** A duration string; accepts exactly what `parseDuration` reads (test/config/duration.test.ts compares them). */
export const durationSchema = z
  .string()
  .trim()
  .regex(DURATION_PATTERN, { message: 'expected a duration like "90s", "10m" or "1h"' });
const duration = durationSchema;
// A wait longer than Node's timer limit (2^31-1 ms, 24.8 days) fires at once: "25d" would time a run out after a few ms.
const timerDuration = duration.refine((text) => !DURATION_PATTERN.test(text) || parseDuration(text) <= MAX_TIMER_MS, {
  message: 'at most "24d" (Node timers cannot wait longer than 24.8 days)',
  abort: true,
});

// Answers memoized: creating an Intl.DateTimeFormat is slow enough to matter for 10,000 jobs (figures in BENCHMARKS.md, "Figures behind design choices").
const knownZones = new Map<string, boolean>();

export function isValidTimezone(zone: string): boolean {
  let valid = knownZones.get(zone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      valid = true;
    } catch {
      valid = false;
    }
    knownZones.set(zone, valid);
  }
  return valid;
}

/** Croner's own message when a pattern does not parse, or null when it does. */
export function cronProblem(pattern: string): string | null {
  try {
    new Cron(pattern, { paused: true });
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const timezone = z.string().refine(isValidTimezone, {
  error: (issue) =>
    `unknown time zone ${JSON.stringify(issue.input)}; use an IANA name such as "UTC" or "Europe/Berlin"`,
});
// Patterns are checked by `jobIssues` below.
const cron = z.string().min(1);

// Each target's schema is its definition's (src/deliver/); the union is the registry's.
export { deliveryTargetSchema };

const dollars = z.number().positive().finite();
/** Spending caps in US dollars, from the costs the ledger records (UTC days and months); see src/budget/. */
export const budgetSchema = z
  .strictObject({
    perRun: dollars.optional().describe("at most this much per run (a slot's whole chain: retries and resume)"),
    perDay: dollars.optional().describe("at most this much per UTC day"),
    perMonth: dollars.optional().describe("at most this much per UTC month"),
  })
  .refine((b) => b.perRun !== undefined || b.perDay !== undefined || b.perMonth !== undefined, {
    message: 'give at least one of "perRun", "perDay", "perMonth" (US dollars)',
  })
  .describe("spending caps in US dollars; a Claude call that could go past one is not made");

const policies = {
  timeout: timerDuration.optional().describe("a run is aborted and recorded timed_out after this long"),
  retries: z.int().min(0).max(20).optional().describe("further attempts after a failure"),
  retryBackoff: timerDuration.optional().describe("first wait before a retry; doubled each time, with jitter"),
  overlap: z.enum(["skip", "queue", "allow"]).optional().describe("what a slot does while the job is still running"),
  catchUp: z
    .enum(["none", "latest", "all"])
    .optional()
    .describe("what happens to slots missed while the daemon was down"),
  catchUpWindow: duration.optional().describe("missed slots older than this become missed rows"),
  jitter: timerDuration.optional().describe("each fire is delayed by a random time up to this"),
};
/** The policies a job (or the file's `defaults`) may set; their defaults are in `./policies.ts`. */
export const policySchema = z.strictObject(policies);

export const jobSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, { message: "use lowercase letters, digits and hyphens, like daily-blog" })
    .max(64),
  skill: z.string().min(1),
  cron,
  timezone: timezone.optional(),
  enabled: z.boolean().default(true),
  params: z.record(z.string(), z.unknown()).default({}),
  deliver: z.array(deliveryTargetSchema).default([]),
  model: z.string().min(1).optional().describe("Claude model for this job; defaults to SUNDIAL_MODEL"),
  budget: budgetSchema.optional().describe("this job's spending caps (the top-level budget applies too)"),
  ...policies,
});

const fileShape = {
  $schema: z.string().optional(),
  timezone: timezone.default("UTC"),
  defaults: policySchema.default({}),
  maxConcurrentRuns: z.int().min(1).max(10_000).default(16).describe("runs at once across all jobs"),
  retention: duration.default("90d").describe("finished runs older than this are deleted"),
  shutdownGrace: timerDuration.default("30s").describe("how long running runs may finish after SIGTERM"),
  alerts: z.array(deliveryTargetSchema).default([]),
  budget: budgetSchema.optional().describe("spending caps of all jobs together"),
};

/** The whole file, jobs included: what `schedules.schema.json` is generated from. */
export const schedulesSchema = z.strictObject({ ...fileShape, jobs: z.array(jobSchema).default([]) });

/**
 * The file without its jobs' contents, which `jobProblems` and `jobSchema` check one job at a
 * time: a problem in one job disables that job only, never the whole file (a bad cron written
 * into a running daemon's file must not stop every job at the next start).
 */
export const fileSettingsSchema = z
  .strictObject({ ...fileShape, jobs: z.array(z.unknown()).default([]) })
  .superRefine((file, ctx) => {
    file.alerts.forEach((target, index) => {
      const refused = notForAlerts(target);
      if (refused)
        ctx.addIssue({
          code: "custom",
          path: ["alerts", index, "to"],
          message: `${refused}; use ${alertTargetNames.join(", ")}`,
        });
    });
  });

export interface JobIssue {
  index: number;
  path: PropertyKey[];
  message: string;
}

/**
 * What the job schema cannot see on its own: cron patterns croner rejects (checked once per
 * distinct pattern: building a croner object is too costly to repeat for 10,000 jobs sharing
 * 500 patterns, see BENCHMARKS.md) and duplicate ids. Of two jobs with one id the later is the
 * one in error: the earlier keeps running (usually the job that was there; a copied job is added
 * below it), so a paste never stops a working job.
 */
export function jobIssues(jobs: readonly unknown[]): JobIssue[] {
  const issues: JobIssue[] = [];
  const seen = new Map<string, number>();
  const patterns = new Map<string, string | null>();
  jobs.forEach((raw, index) => {
    const job = (typeof raw === "object" && raw !== null ? raw : {}) as { id?: unknown; cron?: unknown };
    if (typeof job.cron === "string" && job.cron) {
      if (!patterns.has(job.cron)) patterns.set(job.cron, cronProblem(job.cron));
      const problem = patterns.get(job.cron);
      if (problem)
        issues.push({
          index,
          path: ["cron"],
          message: `invalid cron pattern ${JSON.stringify(job.cron)}: ${problem}; write 5 fields (minute hour day month weekday), 6 with seconds first, or a nickname like "@daily"`,
        });
    }
    if (typeof job.id !== "string") return;
    const first = seen.get(job.id);
    if (first !== undefined)
      issues.push({
        index,
        path: ["id"],
        message: `duplicate job id "${job.id}" (also jobs[${first}]); job ids must be unique, so this one does not run`,
      });
    else seen.set(job.id, index);
  });
  return issues;
}

export type SchedulesFile = z.output<typeof schedulesSchema>;
export type JobConfig = z.output<typeof jobSchema>;
export type Budget = z.output<typeof budgetSchema>;
