/**
 * @module test/helpers/store-controls — a minimal `Controls` for dashboard tests, over a real
 * SQLite ledger: jobs, runs and run details are read from the store (runs with `before` through a
 * read-only connection to the same file, since the store port has no cursor yet), and Run now
 * claims and finishes a real `manual` row. Pause, resume, cancel and redeliver are only recorded
 * in memory — acceptable for this in-test double only; the daemon's real Controls keeps them in
 * the ledger. Every call is kept in `calls` so tests can see what reached the controls.
 */
import { Cron } from "croner";
import { ControlError, type ControlEvent, type Controls, type JobView, type RunPage } from "../../src/control/types.ts";
import type { RunStore } from "../../src/ledger/store.ts";
import type { RunRecord } from "../../src/types.ts";

export interface JobSpec {
  id: string;
  skill: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  disabledReason?: string | null;
}

export interface StoreControls extends Controls {
  calls: { method: string; args: unknown[] }[];
  /** Finishes the manual runs still running (when `runMs` is null they wait for this). */
  finishPending(): Promise<void>;
  close(): void;
}

const FINAL = new Set(["succeeded", "failed", "timed_out", "skipped", "missed", "interrupted", "cancelled"]);

export function storeControls(
  store: RunStore,
  jobs: JobSpec[],
  options: { now?: () => number; runMs?: number | null } = {},
): StoreControls {
  const now = options.now ?? Date.now;
  const paused = new Map<string, string | null>();
  const listeners = new Set<(event: ControlEvent) => void>();
  const calls: StoreControls["calls"] = [];
  const emit = (event: ControlEvent) => listeners.forEach((l) => l(event));
  const pending = new Set<number>();
  async function finish(runId: number) {
    if (!pending.delete(runId)) return;
    await store.startStep(runId, "work", now());
    await store.finishStep(runId, "work", { ok: true }, now());
    await store.finishRun(runId, { status: "succeeded" }, now());
    const finished = await store.getRun(runId);
    if (finished) emit({ type: "run", run: finished });
  }

  async function view(spec: JobSpec): Promise<JobView> {
    const [lastRun] = await store.listRuns({ job: spec.id, limit: 1 });
    let nextRuns: string[] = [];
    if (spec.enabled) {
      const key = `${spec.cron}\u0000${spec.timezone}`;
      const cron = crons.get(key) ?? new Cron(spec.cron, { timezone: spec.timezone, paused: true });
      crons.set(key, cron);
      nextRuns = cron.nextRuns(3, new Date(now())).map((d) => d.toISOString());
    }
    return {
      id: spec.id,
      skill: spec.skill,
      cron: spec.cron,
      timezone: spec.timezone,
      enabled: spec.enabled,
      disabledReason: spec.enabled ? null : (spec.disabledReason ?? "disabled in schedules.json"),
      nextRuns,
      paused: paused.has(spec.id),
      pausedReason: paused.get(spec.id) ?? null,
      lastRun: lastRun ?? null,
    };
  }
  const spec = (id: string) => {
    const found = jobs.find((j) => j.id === id);
    if (!found) throw new ControlError("not_found", `no job "${id}"`);
    return found;
  };

  const crons = new Map<string, Cron>();

  return {
    calls,
    async finishPending() {
      for (const id of [...pending]) await finish(id);
    },
    close: () => undefined,
    listJobs: () => Promise.all(jobs.map(view)),
    async getJob(id) {
      const found = jobs.find((j) => j.id === id);
      return found ? view(found) : null;
    },
    async listRuns(query): Promise<RunPage> {
      const limit = Math.min(500, Math.max(1, query.limit ?? 50));
      const rows = await store.listRuns({
        job: query.job,
        status: query.status,
        before: query.before,
        limit: limit + 1,
      });
      const runs = rows.slice(0, limit);
      return { runs, next: rows.length > limit ? (runs.at(-1)?.id ?? null) : null };
    },
    getRun: (id) => store.getRun(id),
    async trigger(job, request) {
      calls.push({ method: "trigger", args: [job, request] });
      const found = spec(job);
      const at = now();
      const [claim] = await store.claimRuns(
        [
          {
            job,
            skill: found.skill,
            scheduledFor: at,
            trigger: "manual",
            overlap: "skip",
            dryRun: request.dryRun ?? false,
          },
        ],
        { pid: process.pid, instance: "dashboard-test" },
        at,
      );
      if (!claim || claim.runId === null)
        throw new ControlError("overlap", `${job} already has a run for this instant`);
      if (claim.status === "skipped") throw new ControlError("overlap", claim.reason);
      const runId = claim.runId;
      const started = (await store.getRun(runId)) as RunRecord;
      emit({ type: "run", run: started });
      pending.add(runId);
      if (options.runMs !== null) setTimeout(() => void finish(runId), options.runMs ?? 300);
      return started;
    },
    async pause(job, reason) {
      calls.push({ method: "pause", args: [job, reason] });
      spec(job);
      paused.set(job, reason ?? null);
      const result = await view(spec(job));
      emit({ type: "job", job: result });
      return result;
    },
    async resume(job) {
      calls.push({ method: "resume", args: [job] });
      spec(job);
      paused.delete(job);
      const result = await view(spec(job));
      emit({ type: "job", job: result });
      return result;
    },
    async cancel(runId) {
      calls.push({ method: "cancel", args: [runId] });
      const run = await store.getRun(runId);
      if (!run) throw new ControlError("not_found", `no run #${runId}`);
      if (FINAL.has(run.status))
        throw new ControlError("finished", `run #${runId} already ended ${run.status}; there is nothing to cancel`);
    },
    async redeliver(runId) {
      calls.push({ method: "redeliver", args: [runId] });
      const run = await store.getRun(runId);
      if (!run) throw new ControlError("not_found", `no run #${runId}`);
      if (!run.steps.some((s) => s.id.startsWith("deliver:") && s.status === "failed"))
        throw new ControlError(
          "nothing_to_redeliver",
          `every delivery of run #${runId} succeeded; nothing to deliver again`,
        );
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
