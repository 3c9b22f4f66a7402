/**
 * @module control/job-view — a job as every surface shows it (`list --json`, the API, the dashboard,
 * Discord): its schedule, whether it is enabled or why not, its next fires and its pause. One
 * builder, so the CLI and the daemon's views cannot drift apart.
 */
import type { ResolvedJob } from "../config/load.ts";
import type { JobPause } from "../ledger/store.ts";
import type { JobView } from "./types.ts";

export type JobListing = Omit<JobView, "lastRun">;

export function jobListing(job: ResolvedJob, pause: JobPause | undefined, nextRuns: string[]): JobListing {
  return {
    id: job.id,
    skill: job.skill,
    cron: job.cron,
    timezone: job.timezone,
    enabled: job.enabled,
    disabledReason: job.disabledReason,
    nextRuns,
    paused: Boolean(pause),
    pausedReason: pause?.reason ?? null,
  };
}
