/**
 * @module config/types — what the configuration resolves to: each job with its policies filled in,
 * the file's settings, and the whole `Configuration` the daemon runs. Types only, so the core
 * (scheduler, runner) depends on them and not on how `schedules.json` is read.
 */
import type { DeliveryTarget } from "../types.ts";
import type { Problem } from "../errors.ts";
import type { Budget, JobConfig, SchedulesFile } from "./schema.ts";
import type { ResolvedPolicies } from "./policies.ts";

/** A job that failed the job schema: kept (disabled, with its problems) so it is shown, not dropped. */
export interface RejectedJob {
  rejected: Problem[];
  raw: unknown;
}
export type JobEntry = JobConfig | RejectedJob;
/** `schedules.json` as read: its settings valid, each job valid or rejected on its own. */
export type ReadSchedulesFile = Omit<SchedulesFile, "jobs"> & { jobs: JobEntry[] };

export interface ResolvedJob extends ResolvedPolicies {
  id: string;
  skill: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  disabledReason: string | null;
  /** Why a disabled job is off: `"enabled": false` in the file, or a problem (see `disabledReason`). */
  disabledBy?: "file" | "problem";
  params: unknown;
  deliver: DeliveryTarget[];
  model: string | undefined;
  /** The job's own spending caps (the top-level budget is `Settings.budget`). */
  budget?: Budget;
}

export interface Settings {
  maxConcurrentRuns: number;
  retentionMs: number;
  shutdownGraceMs: number;
  alerts: DeliveryTarget[];
  /** The top-level budget: all jobs together. */
  budget?: Budget;
}

export interface Configuration {
  settings: Settings;
  jobs: ResolvedJob[];
  problems: Problem[];
  /** False when the file itself could not be used (unreadable, invalid JSON or schema errors). */
  fileValid: boolean;
}
