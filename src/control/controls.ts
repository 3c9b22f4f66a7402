/**
 * @module control/controls — the daemon's implementation of `Controls` (control/types.ts), on top
 * of the scheduler (trigger, cancel, redeliver run where runs run), the ledger (pauses, runs) and
 * the change feed (events). Every surface (API, dashboard, CLI, Discord) goes through here.
 */
import type { Logger } from "pino";
import type { Loaded } from "../app.ts";
import type { ResolvedJob } from "../config/load.ts";
import { zodProblems } from "../config/load.ts";
import type { JobPause, Owner, RunStore } from "../ledger/store.ts";
import type { Scheduler } from "../schedule/scheduler.ts";
import { FINAL_STATUSES, type RunStatus } from "../types.ts";
import { errorMessage, formatProblem } from "../errors.ts";
import type { ChangeFeed } from "./changes.ts";
import { jobListing } from "./job-view.ts";
import {
  ControlError,
  type ControlEvent,
  type Controls,
  type JobView,
  type RunDetail,
  type RunPage,
  type RunsQuery,
} from "./types.ts";

export const RUN_STATUSES: readonly RunStatus[] = ["queued", "running", "retrying", ...FINAL_STATUSES];
export const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;

export interface ControlDeps {
  store: RunStore;
  scheduler: Scheduler;
  owner: Owner;
  current: () => Loaded;
  changes: ChangeFeed;
  log: Logger;
  now?: () => number;
}

export type DaemonControls = Controls & {
  /** Read by the scheduler at claim time. */
  isPaused(job: string): boolean;
  /** Reads the pauses from the ledger again (another daemon sharing it paused or resumed a job). */
  refreshPauses(): Promise<void>;
  close(): void;
};

/** A job's configuration problem (not a plain `"enabled": false`) stops manual runs too. */
const brokenReason = (job: ResolvedJob) =>
  job.disabledReason && job.disabledReason !== "disabled in schedules.json" ? job.disabledReason : null;

/** Loads the pauses from the ledger; the returned controls keep them in memory for the scheduler. */
export async function createControls(deps: ControlDeps): Promise<DaemonControls> {
  const { store, scheduler } = deps;
  const now = deps.now ?? Date.now;
  const pauses: Map<string, JobPause> = await store.pauses();
  const listeners = new Set<(event: ControlEvent) => void>();

  const findJob = (id: string): ResolvedJob => {
    const job = deps.current().configuration.jobs.find((j) => j.id === id);
    if (!job) throw new ControlError("not_found", `no job "${id}" in schedules.json (see GET /api/v1/jobs)`);
    return job;
  };
  const findRun = async (id: number): Promise<RunDetail> => {
    const run = await store.getRun(id);
    if (!run) throw new ControlError("not_found", `no run #${id} in the ledger (see GET /api/v1/runs)`);
    return run;
  };

  async function view(job: ResolvedJob): Promise<JobView> {
    const [lastRun = null] = await store.listRuns({ job: job.id, limit: 1 });
    return { ...jobListing(job, pauses.get(job.id), job.enabled ? scheduler.nextRuns(job, 3) : []), lastRun };
  }

  const emit = (event: ControlEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        deps.log.warn({ err: errorMessage(error) }, "an event listener failed");
      }
    }
  };
  // One event per run state change, read back from the ledger so it is what the API would answer.
  // Subscribed only while someone listens: the feed then costs the runs nothing (no read-back per write).
  const onChange = (runId: number) => {
    void store.getRun(runId).then(
      (detail) => {
        if (!detail) return;
        const { steps: _steps, ...run } = detail;
        emit({ type: "run", run });
      },
      (error: unknown) => deps.log.warn({ run: runId, err: errorMessage(error) }, "run event could not be read"),
    );
  };
  let stopFeed: (() => void) | null = null;

  async function setPaused(id: string, paused: boolean, reason?: string): Promise<JobView> {
    const job = findJob(id);
    if (paused) {
      await store.setPause(id, reason ?? null, now());
      pauses.set(id, { reason: reason ?? null, pausedAt: pauses.get(id)?.pausedAt ?? now() });
    } else {
      await store.clearPause(id);
      pauses.delete(id);
    }
    deps.log.info({ job: id, reason }, paused ? "job paused" : "job resumed");
    // The other daemons sharing the ledger read the pauses again now (and on their next check anyway).
    await store.controlChannel
      ?.send({ type: "pauses" })
      .catch((error: unknown) =>
        deps.log.warn(
          { err: errorMessage(error) },
          "other daemons not told of the pause; they see it on their next check",
        ),
      );
    const shown = await view(job);
    emit({ type: "job", job: shown });
    return shown;
  }

  /** An active run held by another live daemon on a shared ledger: cancelled through the ledger. */
  async function cancelElsewhere(runId: number, ownerInstance: string, job: string): Promise<boolean> {
    if (!store.requestCancel || !store.shared) return false;
    const daemons = await store.listNodes(now());
    if (!daemons.some((node) => node.id === ownerInstance)) return false;
    const holder = await store.requestCancel(runId, "cancelled by an operator", now());
    if (holder === null) return false;
    deps.log.info({ job, run: runId, holder }, "cancel: asked the daemon holding the run");
    return true;
  }

  return {
    isPaused: (job) => pauses.has(job),
    async refreshPauses() {
      const fresh = await store.pauses();
      pauses.clear();
      for (const [job, pause] of fresh) pauses.set(job, pause);
    },
    close: () => {
      stopFeed?.();
      stopFeed = null;
    },
    async listJobs() {
      return Promise.all(deps.current().configuration.jobs.map(view));
    },
    async getJob(id) {
      const job = deps.current().configuration.jobs.find((j) => j.id === id);
      return job ? view(job) : null;
    },
    async listRuns(query: RunsQuery): Promise<RunPage> {
      const limit = query.limit ?? DEFAULT_PAGE;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
        throw new ControlError("invalid", `limit must be a whole number from 1 to ${MAX_PAGE}`);
      if (query.status !== undefined && !RUN_STATUSES.includes(query.status as RunStatus))
        throw new ControlError("invalid", `status must be one of ${RUN_STATUSES.join(", ")}`);
      if (query.before !== undefined && (!Number.isInteger(query.before) || query.before < 1))
        throw new ControlError("invalid", "before must be a run id (a positive whole number)");
      // One more than asked tells whether an older page exists, without counting.
      const runs = await store.listRuns({
        job: query.job,
        status: query.status,
        before: query.before,
        limit: limit + 1,
      });
      const more = runs.length > limit;
      if (more) runs.pop();
      return { runs, next: more ? (runs[runs.length - 1]?.id ?? null) : null };
    },
    async getRun(id) {
      return store.getRun(id);
    },
    async trigger(id, request) {
      const job = { ...findJob(id) };
      const broken = brokenReason(job);
      if (broken) throw new ControlError("invalid", `job "${id}" cannot run: ${broken}`);
      const skill = deps.current().skills.get(job.skill);
      if (!skill) throw new ControlError("invalid", `job "${id}" cannot run: its skill "${job.skill}" is not loaded`);
      if (request.params) {
        const parsed = skill.definition.params.safeParse({ ...(job.params as object), ...request.params });
        if (!parsed.success)
          throw new ControlError("invalid", zodProblems("params", parsed.error).map(formatProblem).join("; "));
        job.params = parsed.data;
      }
      const claim = await scheduler.trigger(job, { dryRun: Boolean(request.dryRun) });
      if (claim.status === "duplicate") throw new Error("the manual run could not be recorded");
      if (claim.status === "skipped")
        throw new ControlError(
          "overlap",
          `run #${claim.runId} of "${id}" was skipped: ${claim.reason} (the job's overlap policy is "${job.overlap}")`,
        );
      deps.log.info({ job: id, run: claim.runId, dryRun: Boolean(request.dryRun) }, "manual run requested");
      const { steps: _steps, ...run } = await findRun(claim.runId);
      return run;
    },
    pause: (id, reason) => setPaused(id, true, reason),
    resume: (id) => setPaused(id, false),
    async cancel(runId) {
      const run = await findRun(runId);
      if (FINAL_STATUSES.includes(run.status))
        throw new ControlError("finished", `run #${runId} already ended ${run.status}; there is nothing to cancel`);
      const active = (await store.activeRuns(run.job)).find((r) => r.id === runId);
      if (active && active.ownerInstance !== deps.owner.instance && !scheduler.holds(runId)) {
        // Another daemon on the shared ledger holds it: the cancel is recorded there and that daemon
        // told (it aborts the run, which ends `cancelled`).
        if (await cancelElsewhere(runId, active.ownerInstance, run.job)) return;
        throw new ControlError(
          "not_held",
          `run #${runId} is carried by another process (pid ${active.ownerPid}, a foreground \`sundial run\`?); stop it there`,
        );
      }
      const result = await scheduler.cancel(runId, "cancelled by an operator");
      if (result === "not_held") {
        const now = await findRun(runId);
        if (FINAL_STATUSES.includes(now.status))
          throw new ControlError("finished", `run #${runId} already ended ${now.status}; there is nothing to cancel`);
        throw new ControlError("not_held", `run #${runId} is not carried by this daemon`);
      }
      deps.log.info(
        { job: run.job, run: runId },
        result === "aborting" ? "cancel: aborting the running run" : "cancel: run ended before it started",
      );
    },
    async redeliver(runId) {
      const run = await findRun(runId);
      if (!FINAL_STATUSES.includes(run.status) || scheduler.holds(runId))
        throw new ControlError("nothing_to_redeliver", `run #${runId} is still ${run.status}; wait for it to end`);
      if (run.dryRun)
        throw new ControlError("nothing_to_redeliver", `run #${runId} was a dry run: it delivered nothing`);
      if (run.status === "cancelled")
        throw new ControlError("nothing_to_redeliver", `run #${runId} was cancelled; start a new run instead`);
      const undelivered = run.deliveries.filter((d) => d.status !== "succeeded");
      if (!undelivered.length)
        throw new ControlError(
          "nothing_to_redeliver",
          `no delivery of run #${runId} failed (${run.deliveries.length} delivered)`,
        );
      const job = findJob(run.job);
      const broken = brokenReason(job);
      if (broken) throw new ControlError("invalid", `job "${job.id}" cannot run: ${broken}`);
      // The run goes again on its own row: its stored steps (the work and the deliveries that
      // succeeded) are reused, so only the failed targets are sent, and the output's `onDelivered`
      // runs once they all succeeded, even after a restart.
      await scheduler.redeliver(runId, job, Date.parse(run.scheduledFor), run.attempt + 1);
      deps.log.info(
        { job: run.job, run: runId, targets: undelivered.map((d) => d.to) },
        "redelivering the failed targets",
      );
    },
    subscribe(listener) {
      listeners.add(listener);
      stopFeed ??= deps.changes.listen(onChange);
      return () => {
        listeners.delete(listener);
        if (listeners.size || !stopFeed) return;
        stopFeed();
        stopFeed = null;
      };
    },
  };
}
