/**
 * @module test/helpers/store-controls — a minimal `Controls` for dashboard tests, over a real
 * SQLite ledger: jobs, runs and run details are read from the store (runs with `before` through a
 * read-only connection to the same file, since the store port has no cursor yet), and Run now
 * claims and finishes a real `manual` row. Pause, resume, cancel and redeliver are only recorded
 * in memory — acceptable for this in-test double only; the daemon's real Controls keeps them in
 * the ledger. Every call is kept in `calls` so tests can see what reached the controls.
 */
import Database from "better-sqlite3";
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

export function storeControls(store: RunStore, dbFile: string, jobs: JobSpec[], options: { now?: () => number; runMs?: number | null } = {}): StoreControls {
  const now = options.now ?? Date.now;
  const reader = new Database(dbFile, { readonly: true, fileMustExist: true });
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
    const [lastRun] = toRecords(reader.prepare(`SELECT * FROM runs WHERE job = ? ORDER BY id DESC LIMIT 1`).all(spec.id) as Row[]);
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

  type Row = Record<string, unknown>;
  const iso = (ms: unknown) => (typeof ms === "number" ? new Date(ms).toISOString() : null);
  /** The store's own row mapping, repeated here because the store port has no `before` yet. */
  function toRecords(rows: Row[]): RunRecord[] {
    const deliveries = new Map<number, { to: string; url: string | null }[]>();
    if (rows.length) {
      const found = reader.prepare(`SELECT run_id, target, url FROM deliveries WHERE run_id IN (${rows.map(() => "?").join(",")}) ORDER BY run_id, seq`).all(...rows.map((r) => r.id)) as { run_id: number; target: string; url: string | null }[];
      for (const d of found) deliveries.set(d.run_id, [...(deliveries.get(d.run_id) ?? []), { to: d.target, url: d.url }]);
    }
    return rows.map((row) => ({
      id: row.id as number,
      job: row.job as string,
      skill: row.skill as string,
      trigger: row.trigger as RunRecord["trigger"],
      status: row.status as RunRecord["status"],
      reason: (row.reason as string | null) ?? null,
      scheduledFor: iso(row.scheduled_for) as string,
      startedAt: iso(row.started_at),
      finishedAt: iso(row.finished_at),
      attempt: row.attempt as number,
      error: (row.error as string | null) ?? null,
      usage: { inputTokens: row.input_tokens as number, outputTokens: row.output_tokens as number, cacheWriteTokens: row.cache_write_tokens as number, cacheReadTokens: row.cache_read_tokens as number },
      costUsd: (row.cost_usd as number | null) ?? null,
      deliveries: deliveries.get(row.id as number) ?? [],
      resumeOf: (row.resume_of as number | null) ?? null,
      dryRun: row.dry_run === 1,
    }));
  }
  const crons = new Map<string, Cron>();

  return {
    calls,
    async finishPending() {
      for (const id of [...pending]) await finish(id);
    },
    close: () => reader.close(),
    listJobs: () => Promise.all(jobs.map(view)),
    async getJob(id) {
      const found = jobs.find((j) => j.id === id);
      return found ? view(found) : null;
    },
    async listRuns(query): Promise<RunPage> {
      const limit = Math.min(500, Math.max(1, query.limit ?? 50));
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        where.push(clause);
        args.push(value);
      };
      if (query.job) add("job = ?", query.job);
      if (query.status) add("status = ?", query.status);
      if (query.before !== undefined) add("id < ?", query.before);
      const rows = reader.prepare(`SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`).all(...args, limit + 1) as Row[];
      const runs = toRecords(rows.slice(0, limit));
      return { runs, next: rows.length > limit ? (runs.at(-1)?.id ?? null) : null };
    },
    getRun: (id) => store.getRun(id),
    async trigger(job, request) {
      calls.push({ method: "trigger", args: [job, request] });
      const found = spec(job);
      const at = now();
      const [claim] = await store.claimRuns([{ job, skill: found.skill, scheduledFor: at, trigger: "manual", overlap: "skip", dryRun: request.dryRun ?? false }], { pid: process.pid, instance: "dashboard-test" }, at);
      if (!claim || claim.runId === null) throw new ControlError("overlap", `${job} already has a run for this instant`);
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
      if (FINAL.has(run.status)) throw new ControlError("finished", `run #${runId} already ended ${run.status}; there is nothing to cancel`);
    },
    async redeliver(runId) {
      calls.push({ method: "redeliver", args: [runId] });
      const run = await store.getRun(runId);
      if (!run) throw new ControlError("not_found", `no run #${runId}`);
      if (!run.steps.some((s) => s.id.startsWith("deliver:") && s.status === "failed")) throw new ControlError("nothing_to_redeliver", `every delivery of run #${runId} succeeded; nothing to deliver again`);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
