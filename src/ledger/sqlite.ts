/**
 * @module sqlite — the run ledger in SQLite (better-sqlite3, WAL). Several processes (the daemon
 * and CLI commands) share one file; writes that decide something run in IMMEDIATE transactions.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { DeliveryRecord, DeliverySummary, Receipt, RunRecord, RunStatus, StepRecord, Usage } from "../types.ts";
import { decodeValue, encodeValue } from "./json.ts";
import { migrate } from "./sqlite-schema.ts";
import { WAITING_FOR_CAPACITY, type ActiveRun, type ClaimResult, type JobPause, type Owner, type RunClaim, type RunQuery, type RunStore, type StoredStep } from "./store.ts";

const ACTIVE = "('queued','running','retrying')";
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

type Row = Record<string, unknown>;

/** "Work succeeded, a delivery failed" made visible: none, all, some or no deliveries made. */
function summarize(deliveries: DeliveryRecord[]): DeliverySummary {
  if (!deliveries.length) return "none";
  const made = deliveries.filter((d) => d.status === "succeeded").length;
  return made === deliveries.length ? "delivered" : made === 0 ? "failed" : "partial";
}

function usageOf(row: Row): Usage {
  return {
    inputTokens: row.input_tokens as number,
    outputTokens: row.output_tokens as number,
    cacheWriteTokens: row.cache_write_tokens as number,
    cacheReadTokens: row.cache_read_tokens as number,
  };
}

export interface SqliteStoreOptions {
  /** Removes secrets from any text before it is stored. */
  scrub?: (text: string) => string;
  readonly?: boolean;
}

export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): RunStore {
  const scrub = options.scrub ?? ((text: string) => text);
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 10000");
  db.pragma("foreign_keys = ON");
  migrate(db);

  const q = {
    insertRun: db.prepare(`INSERT OR IGNORE INTO runs (job, skill, trigger, status, reason, scheduled_for, started_at, finished_at, attempt, dry_run, resume_of, owner_pid, owner_instance)
      VALUES (@job, @skill, @trigger, @status, @reason, @scheduledFor, @startedAt, @finishedAt, @attempt, @dryRun, @resumeOf, @pid, @instance)`),
    active: db.prepare(`SELECT id, status, reason, scheduled_for AS scheduledFor, owner_pid AS ownerPid, owner_instance AS ownerInstance FROM runs WHERE job = ? AND status IN ${ACTIVE} ORDER BY id`),
    lastSlot: db.prepare(`SELECT MAX(scheduled_for) AS at FROM runs WHERE job = ? AND trigger IN ('schedule','catchup')`),
    cursor: db.prepare(`SELECT first_seen FROM job_cursor WHERE job = ?`),
    insertCursor: db.prepare(`INSERT OR IGNORE INTO job_cursor (job, first_seen) VALUES (?, ?)`),
    getStep: db.prepare(`SELECT status, result FROM steps WHERE run_id = ? AND step_id = ?`),
    startStep: db.prepare(`INSERT INTO steps (run_id, step_id, status, started_at, seq) VALUES (?, ?, 'running', ?, (SELECT COUNT(*) FROM steps WHERE run_id = ?))
      ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'running', started_at = excluded.started_at, finished_at = NULL, error = NULL`),
    finishStep: db.prepare(`UPDATE steps SET status = 'succeeded', finished_at = ?, result = ? WHERE run_id = ? AND step_id = ?`),
    failStep: db.prepare(`UPDATE steps SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ? AND step_id = ?`),
    runUsage: db.prepare(`UPDATE runs SET input_tokens = input_tokens + @inputTokens, output_tokens = output_tokens + @outputTokens,
      cache_write_tokens = cache_write_tokens + @cacheWriteTokens, cache_read_tokens = cache_read_tokens + @cacheReadTokens,
      cost_usd = CASE WHEN @cost IS NULL THEN NULL ELSE cost_usd + @cost END WHERE id = @runId`),
    stepUsage: db.prepare(`UPDATE steps SET input_tokens = input_tokens + @inputTokens, output_tokens = output_tokens + @outputTokens,
      cache_write_tokens = cache_write_tokens + @cacheWriteTokens, cache_read_tokens = cache_read_tokens + @cacheReadTokens,
      cost_usd = CASE WHEN @cost IS NULL THEN NULL ELSE cost_usd + @cost END WHERE run_id = @runId AND step_id = @stepId`),
    addDelivery: db.prepare(`INSERT INTO deliveries (run_id, seq, target, url, detail) VALUES (?, (SELECT COUNT(*) FROM deliveries WHERE run_id = ?), ?, ?, ?)`),
    deliveries: db.prepare(`SELECT target AS "to", url, status, error FROM deliveries WHERE run_id = ? ORDER BY seq`),
    recordDelivery: db.prepare(`INSERT INTO deliveries (run_id, seq, target, url, detail, step_id, status, error)
      VALUES (@runId, (SELECT COUNT(*) FROM deliveries WHERE run_id = @runId), @to, @url, @detail, @stepId, @status, @error)
      ON CONFLICT (run_id, step_id) WHERE step_id IS NOT NULL DO UPDATE SET url = excluded.url, detail = excluded.detail, status = excluded.status, error = excluded.error`),
    slotRun: db.prepare(`SELECT * FROM runs WHERE job = ? AND scheduled_for = ? AND trigger IN ('schedule','catchup')`),
    cancelQueued: db.prepare(`UPDATE runs SET status = 'cancelled', reason = ?, finished_at = ? WHERE id = ? AND status = 'queued'`),
    pauses: db.prepare(`SELECT job, reason, paused_at AS pausedAt FROM job_pauses`),
    setPause: db.prepare(`INSERT INTO job_pauses (job, reason, paused_at) VALUES (?, ?, ?) ON CONFLICT (job) DO UPDATE SET reason = excluded.reason`),
    clearPause: db.prepare(`DELETE FROM job_pauses WHERE job = ?`),
    setState: db.prepare(`INSERT INTO job_state (job, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (job, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
    getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
    lastSuccess: db.prepare(`SELECT finished_at AS at FROM runs WHERE job = ? AND status = 'succeeded' AND dry_run = 0 ORDER BY id DESC LIMIT 1`),
    markRunning: db.prepare(`UPDATE runs SET status = 'running', attempt = ?, started_at = COALESCE(started_at, ?), reason = NULL WHERE id = ?`),
    finishRun: db.prepare(`UPDATE runs SET status = ?, reason = ?, error = ?, finished_at = ? WHERE id = ?`),
    loadState: db.prepare(`SELECT key, value FROM job_state WHERE job = ?`),
    previousOutcome: db.prepare(`SELECT status FROM runs WHERE job = ? AND id < ? AND dry_run = 0 AND status IN ('succeeded','failed','timed_out') ORDER BY id DESC LIMIT 1`),
    shouldAlert: db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE job = ? AND id < ? AND alerted_at IS NOT NULL AND dry_run = 0
      AND id > COALESCE((SELECT MAX(id) FROM runs WHERE job = ? AND status = 'succeeded' AND dry_run = 0), 0)`),
  };

  function toRecord(row: Row): RunRecord {
    const deliveries = q.deliveries.all(row.id) as DeliveryRecord[];
    return {
      id: row.id as number,
      job: row.job as string,
      skill: row.skill as string,
      trigger: row.trigger as RunRecord["trigger"],
      status: row.status as RunStatus,
      reason: (row.reason as string | null) ?? null,
      scheduledFor: iso(row.scheduled_for as number) as string,
      startedAt: iso(row.started_at as number | null),
      finishedAt: iso(row.finished_at as number | null),
      attempt: row.attempt as number,
      error: (row.error as string | null) ?? null,
      usage: usageOf(row),
      costUsd: (row.cost_usd as number | null) ?? null,
      deliveries,
      delivery: summarize(deliveries),
      resumeOf: (row.resume_of as number | null) ?? null,
      dryRun: row.dry_run === 1,
    };
  }

  function claimOne(claim: RunClaim, owner: Owner, now: number, canStart: boolean): ClaimResult {
    const active = q.active.all(claim.job) as { id: number; status: RunStatus }[];
    let status: "running" | "queued" | "skipped" = "running";
    let reason: string | null = null;
    if (active.length && claim.overlap === "skip") {
      status = "skipped";
      reason = `overlap: run #${active[0]?.id} of this job is still running`;
    } else if (active.length && claim.overlap === "queue") {
      const queued = active.find((run) => run.status === "queued");
      status = queued ? "skipped" : "queued";
      reason = queued ? `overlap: run #${queued.id} is already queued behind the running one` : `queued behind run #${active[0]?.id}`;
    } else if (!canStart) {
      status = "queued";
      reason = WAITING_FOR_CAPACITY;
    }
    const info = q.insertRun.run({
      job: claim.job,
      skill: claim.skill,
      trigger: claim.trigger,
      status,
      reason,
      scheduledFor: claim.scheduledFor,
      startedAt: status === "running" ? now : null,
      finishedAt: status === "skipped" ? now : null,
      attempt: status === "running" ? 1 : 0,
      dryRun: claim.dryRun ? 1 : 0,
      resumeOf: claim.resumeOf ?? null,
      pid: owner.pid,
      instance: owner.instance,
    });
    if (info.changes === 0) return { runId: null, status: "duplicate" };
    const runId = Number(info.lastInsertRowid);
    return status === "running" ? { runId, status } : { runId, status, reason: reason as string };
  }

  const claimAll = db.transaction((claims: RunClaim[], owner: Owner, now: number, capacity: number) => {
    let left = capacity;
    return claims.map((claim) => {
      const result = claimOne(claim, owner, now, left > 0);
      if (result.status === "running") left--;
      return result;
    });
  });

  const store: RunStore = {
    async claimRuns(claims, owner, now, capacity = Number.POSITIVE_INFINITY) {
      return claimAll.immediate(claims, owner, now, capacity);
    },
    async recordUnrun(rows, now) {
      const insert = db.transaction(() => {
        let count = 0;
        for (const row of rows) {
          count += q.insertRun.run({ ...row, trigger: "schedule", startedAt: null, finishedAt: now, attempt: 0, dryRun: 0, resumeOf: null, pid: 0, instance: "" }).changes;
        }
        return count;
      });
      return insert.immediate();
    },
    async jobCursors(jobs, now) {
      const cursors = new Map<string, number>();
      db.transaction(() => {
        for (const job of jobs) {
          const last = (q.lastSlot.get(job) as { at: number | null }).at;
          let first = (q.cursor.get(job) as { first_seen: number } | undefined)?.first_seen;
          if (first === undefined) {
            q.insertCursor.run(job, now);
            first = now;
          }
          cursors.set(job, Math.max(last ?? first, first));
        }
      }).immediate();
      return cursors;
    },
    async markRunning(runId, attempt, now) {
      q.markRunning.run(attempt, now, runId);
    },
    async markRetrying(runId, attempt, error) {
      db.prepare(`UPDATE runs SET status = 'retrying', attempt = ?, error = ? WHERE id = ?`).run(attempt, scrub(error), runId);
    },
    async finishRun(runId, outcome, now) {
      q.finishRun.run(
        outcome.status,
        outcome.reason ?? null,
        outcome.error ? scrub(outcome.error) : null,
        now,
        runId,
      );
    },
    async activeRuns(job) {
      return q.active.all(job) as ActiveRun[];
    },
    async orphanedRuns(isAlive) {
      const rows = db.prepare(`SELECT id, job, owner_pid AS pid, owner_instance AS instance FROM runs WHERE status IN ${ACTIVE}`).all() as (Owner & { id: number; job: string })[];
      return rows.filter((row) => !isAlive(row)).map(({ id, job }) => ({ id, job }));
    },
    async resumableRuns(since) {
      const rows = db
        .prepare(`SELECT * FROM runs r WHERE status = 'interrupted' AND resume_of IS NULL AND dry_run = 0 AND finished_at >= ?
          AND NOT EXISTS (SELECT 1 FROM runs x WHERE x.resume_of = r.id) ORDER BY id`)
        .all(since) as Row[];
      return rows.map(toRecord);
    },
    async getStep(runId, stepId) {
      const row = q.getStep.get(runId, stepId) as { status: string; result: string | null } | undefined;
      if (!row || row.status !== "succeeded") return null;
      return { status: "succeeded", result: row.result === null ? undefined : decodeValue(row.result) } satisfies StoredStep;
    },
    async startStep(runId, stepId, now) {
      q.startStep.run(runId, stepId, now, runId);
    },
    async finishStep(runId, stepId, result, now) {
      q.finishStep.run(now, result === undefined ? null : scrub(encodeValue(result)), runId, stepId);
    },
    async failStep(runId, stepId, error, now) {
      q.failStep.run(now, scrub(error), runId, stepId);
    },
    async copyFinishedSteps(fromRunId, toRunId) {
      return db
        .prepare(`INSERT OR IGNORE INTO steps (run_id, step_id, status, started_at, finished_at, result, seq, reused_from)
          SELECT ?, step_id, status, started_at, finished_at, result, seq, COALESCE(reused_from, run_id) FROM steps WHERE run_id = ? AND status = 'succeeded'`)
        .run(toRunId, fromRunId).changes;
    },
    async addUsage(runId, stepId, usage, costUsd) {
      const params = { ...usage, cost: costUsd, runId, stepId };
      db.transaction(() => {
        q.runUsage.run(params);
        if (stepId !== null) q.stepUsage.run(params);
      })();
    },
    async addDelivery(runId, receipt: Receipt) {
      q.addDelivery.run(runId, runId, receipt.to, receipt.url ?? null, receipt.detail ? scrub(JSON.stringify(receipt.detail)) : null);
    },
    async recordDelivery(runId, stepId, delivery) {
      q.recordDelivery.run({
        runId,
        stepId,
        to: delivery.to,
        url: delivery.url ?? null,
        detail: delivery.detail ? scrub(JSON.stringify(delivery.detail)) : null,
        status: delivery.status,
        error: delivery.error ? scrub(delivery.error) : null,
      });
    },
    async slotRun(job, scheduledFor) {
      const row = q.slotRun.get(job, scheduledFor) as Row | undefined;
      return row ? toRecord(row) : null;
    },
    async cancelQueued(runId, reason, now) {
      return q.cancelQueued.run(reason, now, runId).changes > 0;
    },
    async pauses() {
      const rows = q.pauses.all() as ({ job: string } & JobPause)[];
      return new Map(rows.map(({ job, reason, pausedAt }) => [job, { reason, pausedAt }]));
    },
    async setPause(job, reason, now) {
      q.setPause.run(job, reason, now);
    },
    async clearPause(job) {
      return q.clearPause.run(job).changes > 0;
    },
    async loadState(job) {
      const rows = q.loadState.all(job) as { key: string; value: string }[];
      return new Map(rows.map((row) => [row.key, decodeValue(row.value)]));
    },
    async setState(job, key, value, now) {
      q.setState.run(job, key, encodeValue(value), now);
    },
    async lastSuccessAt(job) {
      const row = q.lastSuccess.get(job) as { at: number } | undefined;
      return row?.at ?? null;
    },
    async shouldAlert(job, runId) {
      return (q.shouldAlert.get(job, runId, job) as { n: number }).n === 0;
    },
    async markAlerted(runId, now) {
      db.prepare(`UPDATE runs SET alerted_at = ? WHERE id = ?`).run(now, runId);
    },
    async previousOutcome(job, runId) {
      return (q.previousOutcome.get(job, runId) as { status: RunStatus } | undefined)?.status ?? null;
    },
    async listRuns(query: RunQuery) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.job) {
        where.push("job = ?");
        args.push(query.job);
      }
      if (query.status) {
        where.push("status = ?");
        args.push(query.status);
      }
      if (query.before !== undefined) {
        where.push("id < ?");
        args.push(query.before);
      }
      const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, query.limit ?? 20) as Row[]).map(toRecord);
    },
    async getRun(runId) {
      const row = q.getRun.get(runId) as Row | undefined;
      if (!row) return null;
      const steps = (db.prepare(`SELECT * FROM steps WHERE run_id = ? ORDER BY seq, started_at`).all(runId) as Row[]).map(
        (step): StepRecord => ({
          id: step.step_id as string,
          status: step.status as StepRecord["status"],
          startedAt: iso(step.started_at as number) as string,
          finishedAt: iso(step.finished_at as number | null),
          error: (step.error as string | null) ?? null,
          usage: usageOf(step),
          costUsd: (step.cost_usd as number | null) ?? null,
          reusedFrom: (step.reused_from as number | null) ?? null,
        }),
      );
      return { ...toRecord(row), steps };
    },
    async prune(before) {
      // Keep each job's catch-up cursor past the rows being deleted, or their slots would look missed.
      return db.transaction(() => {
        db.prepare(`UPDATE job_cursor SET first_seen = MAX(first_seen, COALESCE((SELECT MAX(scheduled_for) FROM runs
          WHERE runs.job = job_cursor.job AND trigger IN ('schedule','catchup')), 0))`).run();
        return db.prepare(`DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < ? AND status NOT IN ${ACTIVE}`).run(before).changes;
      }).immediate();
    },
    async ping(now) {
      db.prepare(`INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`).run(now);
    },
    close() {
      db.close();
    },
  };
  return store;
}
