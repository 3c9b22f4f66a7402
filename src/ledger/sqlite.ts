/**
 * @module sqlite — the run ledger in SQLite (better-sqlite3, WAL). Several processes (the daemon
 * and CLI commands) share one file; writes that decide something run in IMMEDIATE transactions.
 */
import type Database from "better-sqlite3";
import type { DeliveryRecord, Receipt, RunRecord, RunStatus, StepRecord } from "../types.ts";
import { decodeValue, encodeValue } from "../util/json.ts";
import { migrate } from "./sqlite-schema.ts";
import {
  LeaseLostError,
  NODE_SILENT_DROP_MS,
  WAITING_FOR_CAPACITY,
  type NodeInfo,
  type ActiveRun,
  type ClaimResult,
  type InterruptedRun,
  type JobPause,
  type Owner,
  type RunClaim,
  type RunQuery,
  type RunStore,
  type StepUsage,
  type StoredStep,
} from "./store.ts";
import { stripControls } from "../util/terminal-text.ts";
import { noBusyWait, openDatabase, openError } from "./sqlite-open.ts";
import { withRetries } from "./sqlite-retry.ts";
import { sqliteSpendMethods } from "./sqlite-spend.ts";
import { iso, runRecord, usageOf, type Row } from "./rows.ts";

const ACTIVE = "('queued','running','retrying')";
export interface SqliteStoreOptions {
  /** Removes secrets from any text before it is stored. */
  scrub?: (text: string) => string;
  /** Opens an existing ledger read-only (never creating it); the inspecting commands do. */
  readonly?: boolean;
  /** How long a claimed row stays held without renewal (SUNDIAL_LEASE); default 30 s. */
  leaseMs?: number;
  /** Told about faults the store works around (full disk while a final row waits, a failed VACUUM). */
  warn?: (message: string) => void;
  /** A step result longer than this (encoded) is not kept: a resumed run does the step again. */
  maxStepResultBytes?: number;
  /** Runs on the connection once it is open (tests use it: a small max_page_count is a full disk). */
  configure?: (db: Database.Database) => void;
}

/** Once a run has ended (other than interrupted) nobody reuses its steps: larger results are dropped. */
export const KEEP_FINISHED_RESULT_BYTES = 16_384;
const NOT_KEPT = "$sundialNotKept";
/** Methods whose write must land even through a full disk: a slot's row and a run's final row. */
const MUST_LAND = new Set(["claimRuns", "recordUnrun", "finishRun"]);

export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): RunStore {
  const scrub = options.scrub ?? ((text: string) => text);
  const leaseMs = options.leaseMs ?? 30_000;
  // Errors and reasons are printed by `runs`/`show`: no terminal escapes from an error body get stored.
  const storedText = (text: string) => scrub(stripControls(text));
  const maxResult = options.maxStepResultBytes ?? 16 * 1024 * 1024;
  const db = openDatabase(file, { readonly: options.readonly, warn: options.warn });
  let closed = false;
  options.configure?.(db);
  if (!options.readonly) {
    try {
      migrate(db);
      noBusyWait(db);
    } catch (error) {
      db.close();
      throw openError(file, error);
    }
  }

  const q = {
    insertRun:
      db.prepare(`INSERT OR IGNORE INTO runs (job, skill, trigger, status, reason, scheduled_for, started_at, finished_at, attempt, dry_run, resume_of, owner_pid, owner_instance, lease_expires_at, epoch)
      VALUES (@job, @skill, @trigger, @status, @reason, @scheduledFor, @startedAt, @finishedAt, @attempt, @dryRun, @resumeOf, @pid, @instance, @leaseExpiresAt, 1)`),
    active: db.prepare(
      `SELECT id, status, reason, scheduled_for AS scheduledFor, owner_pid AS ownerPid, owner_instance AS ownerInstance, epoch FROM runs WHERE job = ? AND status IN ${ACTIVE} ORDER BY id`,
    ),
    epoch: db.prepare(`SELECT epoch FROM runs WHERE id = ?`),
    renew: db.prepare(`UPDATE runs SET lease_expires_at = ? WHERE owner_instance = ? AND status IN ${ACTIVE}`),
    held: db.prepare(
      `SELECT id, job, owner_pid AS ownerPid, owner_instance AS ownerInstance, lease_expires_at AS leaseExpiresAt, epoch FROM runs WHERE status IN ${ACTIVE} AND owner_instance <> ?`,
    ),
    interrupt: db.prepare(
      `UPDATE runs SET status = 'interrupted', reason = ?, finished_at = ?, lease_expires_at = NULL, epoch = epoch + 1 WHERE id = ? AND epoch = ? AND status IN ${ACTIVE}`,
    ),
    lastSlot: db.prepare(
      `SELECT MAX(scheduled_for) AS at FROM runs WHERE job = ? AND trigger IN ('schedule','catchup')`,
    ),
    cursor: db.prepare(`SELECT first_seen FROM job_cursor WHERE job = ?`),
    insertCursor: db.prepare(`INSERT OR IGNORE INTO job_cursor (job, first_seen) VALUES (?, ?)`),
    getStep: db.prepare(`SELECT status, result FROM steps WHERE run_id = ? AND step_id = ?`),
    startStep:
      db.prepare(`INSERT INTO steps (run_id, step_id, status, started_at, seq) VALUES (?, ?, 'running', ?, (SELECT COUNT(*) FROM steps WHERE run_id = ?))
      ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'running', started_at = excluded.started_at, finished_at = NULL, error = NULL`),
    finishStep: db.prepare(
      `UPDATE steps SET status = 'succeeded', finished_at = ?, result = ? WHERE run_id = ? AND step_id = ?`,
    ),
    failStep: db.prepare(
      `UPDATE steps SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ? AND step_id = ?`,
    ),
    runUsage:
      db.prepare(`UPDATE runs SET input_tokens = input_tokens + @inputTokens, output_tokens = output_tokens + @outputTokens,
      cache_write_tokens = cache_write_tokens + @cacheWriteTokens, cache_read_tokens = cache_read_tokens + @cacheReadTokens,
      cost_usd = CASE WHEN @cost IS NULL THEN NULL ELSE cost_usd + @cost END WHERE id = @runId AND (@epoch IS NULL OR epoch = @epoch)`),
    stepUsage:
      db.prepare(`UPDATE steps SET input_tokens = input_tokens + @inputTokens, output_tokens = output_tokens + @outputTokens,
      cache_write_tokens = cache_write_tokens + @cacheWriteTokens, cache_read_tokens = cache_read_tokens + @cacheReadTokens,
      cost_usd = CASE WHEN @cost IS NULL THEN NULL ELSE cost_usd + @cost END WHERE run_id = @runId AND step_id = @stepId`),
    addDelivery: db.prepare(
      `INSERT INTO deliveries (run_id, seq, target, url, detail) VALUES (?, (SELECT COUNT(*) FROM deliveries WHERE run_id = ?), ?, ?, ?)`,
    ),
    deliveries: db.prepare(`SELECT target AS "to", url, status, error FROM deliveries WHERE run_id = ? ORDER BY seq`),
    recordDelivery: db.prepare(`INSERT INTO deliveries (run_id, seq, target, url, detail, step_id, status, error)
      VALUES (@runId, (SELECT COUNT(*) FROM deliveries WHERE run_id = @runId), @to, @url, @detail, @stepId, @status, @error)
      ON CONFLICT (run_id, step_id) WHERE step_id IS NOT NULL DO UPDATE SET url = excluded.url, detail = excluded.detail, status = excluded.status, error = excluded.error`),
    slotRun: db.prepare(`SELECT * FROM runs WHERE job = ? AND scheduled_for = ? AND trigger IN ('schedule','catchup')`),
    reclaim: db.prepare(
      `UPDATE runs SET owner_pid = @pid, owner_instance = @instance, lease_expires_at = @lease, epoch = epoch + 1 WHERE id = @runId RETURNING epoch`,
    ),
    cancelQueued: db.prepare(
      `UPDATE runs SET status = 'cancelled', reason = ?, finished_at = ? WHERE id = ? AND status = 'queued'`,
    ),
    pauses: db.prepare(`SELECT job, reason, paused_at AS pausedAt FROM job_pauses`),
    setPause: db.prepare(
      `INSERT INTO job_pauses (job, reason, paused_at) VALUES (?, ?, ?) ON CONFLICT (job) DO UPDATE SET reason = excluded.reason`,
    ),
    clearPause: db.prepare(`DELETE FROM job_pauses WHERE job = ?`),
    setState: db.prepare(
      `INSERT INTO job_state (job, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (job, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    getRun: db.prepare(`SELECT * FROM runs WHERE id = ?`),
    steps: db.prepare(`SELECT * FROM steps WHERE run_id = ? ORDER BY seq, started_at`),
    lastSuccess: db.prepare(
      `SELECT finished_at AS at FROM runs WHERE job = ? AND status = 'succeeded' AND dry_run = 0 ORDER BY id DESC LIMIT 1`,
    ),
    markRunning:
      db.prepare(`UPDATE runs SET status = 'running', attempt = @attempt, started_at = COALESCE(started_at, @now), reason = NULL, lease_expires_at = @lease
      WHERE id = @runId AND (@epoch IS NULL OR epoch = @epoch)`),
    markRetrying: db.prepare(
      `UPDATE runs SET status = 'retrying', attempt = @attempt, error = @error WHERE id = @runId AND (@epoch IS NULL OR epoch = @epoch)`,
    ),
    // The final row moves the epoch on: whatever the run's holder still writes after it (a skill that
    // ignored its signal and was given up) is refused.
    finishRun:
      db.prepare(`UPDATE runs SET status = @status, reason = @reason, error = @error, finished_at = @now, lease_expires_at = NULL, epoch = epoch + 1
      WHERE id = @runId AND (@epoch IS NULL OR epoch = @epoch)`),
    loadState: db.prepare(`SELECT key, value FROM job_state WHERE job = ?`),
    previousOutcome: db.prepare(
      `SELECT status FROM runs WHERE job = ? AND id < ? AND dry_run = 0 AND status IN ('succeeded','failed','timed_out') ORDER BY id DESC LIMIT 1`,
    ),
    undelivered: db.prepare(`SELECT 1 FROM deliveries WHERE run_id = ? AND status <> 'succeeded' LIMIT 1`),
    dropResults: db.prepare(
      `UPDATE steps SET result = json_object('${NOT_KEPT}', length(result)) WHERE run_id = ? AND length(result) > ?`,
    ),
    shouldAlert:
      db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE job = ? AND id < ? AND alerted_at IS NOT NULL AND dry_run = 0
      AND id > COALESCE((SELECT MAX(id) FROM runs WHERE job = ? AND status = 'succeeded' AND dry_run = 0), 0)`),
  };

  /**
   * Commits `write` with synchronous=FULL: the WAL is synced before it returns, so what it records
   * (a step done, a message posted, state that keeps an item from being posted again) survives a
   * power loss, and so does every commit before it in the log (the claim, the earlier steps). Other
   * commits stay NORMAL (survive a crash of the process, maybe not a power loss): losing the last of
   * them repeats only bookkeeping — a lost final row makes the run interrupted and resumed, and the
   * resume reuses every durable step. FULL on every commit cost 10× the write time (an fsync each).
   */
  function durably<T>(write: () => T): T {
    db.pragma("synchronous = FULL");
    try {
      return write();
    } finally {
      db.pragma("synchronous = NORMAL");
    }
  }

  function addUsageRows(runId: number, stepId: string | null, { usage, costUsd }: StepUsage): void {
    const params = { ...usage, cost: costUsd, runId, stepId, epoch: null };
    q.runUsage.run(params);
    if (stepId !== null) q.stepUsage.run(params);
  }

  function toRecord(row: Row): RunRecord {
    return runRecord(row, q.deliveries.all(row.id) as DeliveryRecord[]);
  }

  /** Refuses a write of `runId` made under an epoch that moved on (see LeaseLostError). */
  function fence(runId: number, epoch: number | undefined): void {
    if (epoch === undefined) return;
    const row = q.epoch.get(runId) as { epoch: number } | undefined;
    if (row?.epoch !== epoch) throw new LeaseLostError(runId, epoch);
  }
  /** A write fenced by the run's epoch: checked and applied under one write lock. */
  function fenced<T>(runId: number, epoch: number | undefined, write: () => T): T {
    if (epoch === undefined) return write();
    return db
      .transaction(() => {
        fence(runId, epoch);
        return write();
      })
      .immediate();
  }
  /** A single UPDATE of the run's row that matched nothing: refused by its epoch (or the row is gone). */
  function checked(runId: number, epoch: number | undefined, changes: number): void {
    if (changes === 0 && epoch !== undefined) throw new LeaseLostError(runId, epoch);
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
      reason = queued
        ? `overlap: run #${queued.id} is already queued behind the running one`
        : `queued behind run #${active[0]?.id}`;
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
      leaseExpiresAt: status === "skipped" ? null : now + leaseMs,
    });
    if (info.changes === 0) return { runId: null, status: "duplicate" };
    const runId = Number(info.lastInsertRowid);
    return status === "running" ? { runId, status, epoch: 1 } : { runId, status, reason: reason as string, epoch: 1 };
  }

  function finishOne(...[runId, outcome, now, epoch, usage]: Parameters<RunStore["finishRun"]>): void {
    const changes = q.finishRun.run({
      status: outcome.status,
      reason: outcome.reason ? storedText(outcome.reason) : null,
      error: outcome.error ? storedText(outcome.error) : null,
      now,
      runId,
      epoch: epoch ?? null,
    }).changes;
    // Refused by its epoch: the UPDATE changed nothing, so nothing of this run is written below.
    checked(runId, epoch, changes);
    if (usage) addUsageRows(runId, null, usage);
    // Only an interrupted run's steps are reused (by its resume), or those of a run with a failed
    // delivery (by `redeliver`): the others' large results go now.
    if (outcome.status !== "interrupted" && !q.undelivered.get(runId))
      q.dropResults.run(runId, KEEP_FINISHED_RESULT_BYTES);
  }

  /**
   * Final rows asked for in one turn of the event loop (a burst of runs ending together) commit in
   * one transaction: a commit costs far more than the UPDATE (the profile of 1,500 runs a second
   * put a quarter of the daemon's CPU in per-run commits). Each row is still checked against its own
   * epoch, and a refused one rejects alone; any other error fails the whole batch, which committed
   * nothing, and each caller's retry (sqlite-retry.ts) writes its row again.
   */
  const finishing: { args: Parameters<RunStore["finishRun"]>; resolve: () => void; reject: (e: unknown) => void }[] =
    [];
  const finishAll = db.transaction((batch: typeof finishing) =>
    batch.map((item) => {
      try {
        finishOne(...item.args);
        return null;
      } catch (error) {
        if (error instanceof LeaseLostError) return error;
        throw error;
      }
    }),
  );
  function commitFinishes(): void {
    const batch = finishing.splice(0);
    let refused: (LeaseLostError | null)[];
    try {
      refused = finishAll.immediate(batch);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const error = refused[index];
      if (error) item.reject(error);
      else item.resolve();
    });
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
    ...sqliteSpendMethods(db),
    async claimRuns(claims, owner, now, capacity = Number.POSITIVE_INFINITY) {
      return claimAll.immediate(claims, owner, now, capacity);
    },
    async recordUnrun(rows, now) {
      const insert = db.transaction(() => {
        let count = 0;
        for (const row of rows) {
          count += q.insertRun.run({
            ...row,
            trigger: "schedule",
            startedAt: null,
            finishedAt: now,
            attempt: 0,
            dryRun: 0,
            resumeOf: null,
            pid: 0,
            instance: "",
            leaseExpiresAt: null,
          }).changes;
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
    async markRunning(runId, attempt, now, epoch) {
      checked(
        runId,
        epoch,
        q.markRunning.run({ attempt, now, lease: now + leaseMs, runId, epoch: epoch ?? null }).changes,
      );
    },
    async markRetrying(runId, attempt, error, epoch) {
      checked(
        runId,
        epoch,
        q.markRetrying.run({ attempt, error: storedText(error), runId, epoch: epoch ?? null }).changes,
      );
    },
    finishRun(runId, outcome, now, epoch, usage) {
      return new Promise<void>((resolve, reject) => {
        if (finishing.push({ args: [runId, outcome, now, epoch, usage], resolve, reject }) === 1)
          setImmediate(commitFinishes);
      });
    },
    async activeRuns(job) {
      return q.active.all(job) as ActiveRun[];
    },
    async renewLeases(owner, now) {
      return q.renew.run(now + leaseMs, owner.instance).changes;
    },
    async interruptExpired(self, now, reason, isGone) {
      return db
        .transaction(() => {
          const rows = q.held.all(self.instance) as (InterruptedRun & {
            leaseExpiresAt: number | null;
            epoch: number;
          })[];
          const taken: InterruptedRun[] = [];
          for (const row of rows) {
            const expired = row.leaseExpiresAt === null || row.leaseExpiresAt < now;
            if (!expired && !isGone?.({ pid: row.ownerPid, instance: row.ownerInstance })) continue;
            if (q.interrupt.run(reason, now, row.id, row.epoch).changes)
              taken.push({ id: row.id, job: row.job, ownerPid: row.ownerPid, ownerInstance: row.ownerInstance });
          }
          return taken;
        })
        .immediate();
    },
    async resumableRuns(since) {
      const rows = db
        .prepare(
          `SELECT * FROM runs r WHERE status = 'interrupted' AND resume_of IS NULL AND dry_run = 0 AND finished_at >= ?
          AND NOT EXISTS (SELECT 1 FROM runs x WHERE x.resume_of = r.id) ORDER BY id`,
        )
        .all(since) as Row[];
      return rows.map(toRecord);
    },
    async getStep(runId, stepId) {
      const row = q.getStep.get(runId, stepId) as { status: string; result: string | null } | undefined;
      if (!row || row.status !== "succeeded") return null;
      const result = row.result === null ? undefined : decodeValue(row.result);
      // A result that was not kept is done again, as if the step had not finished.
      if (result && typeof result === "object" && NOT_KEPT in result) return null;
      return { status: "succeeded", result } satisfies StoredStep;
    },
    async startStep(runId, stepId, now, epoch) {
      fenced(runId, epoch, () => q.startStep.run(runId, stepId, now, runId));
    },
    async finishStep(runId, stepId, result, now, epoch, usage) {
      let text = result === undefined ? null : scrub(encodeValue(result));
      if (text !== null && Buffer.byteLength(text) > maxResult)
        text = JSON.stringify({ [NOT_KEPT]: Buffer.byteLength(text) });
      // The step's usage lands with its result: a crash cannot keep one without the other.
      durably(() =>
        db
          .transaction(() => {
            fence(runId, epoch);
            q.finishStep.run(now, text, runId, stepId);
            if (usage) addUsageRows(runId, stepId, usage);
          })
          .immediate(),
      );
    },
    async failStep(runId, stepId, error, now, epoch, usage) {
      db.transaction(() => {
        fence(runId, epoch);
        q.failStep.run(now, storedText(error), runId, stepId);
        if (usage) addUsageRows(runId, stepId, usage);
      }).immediate();
    },
    async copyFinishedSteps(fromRunId, toRunId) {
      return db
        .transaction(() => {
          const copied = db
            .prepare(
              `INSERT OR IGNORE INTO steps (run_id, step_id, status, started_at, finished_at, result, seq, reused_from)
            SELECT ?, step_id, status, started_at, finished_at, result, seq, COALESCE(reused_from, run_id) FROM steps WHERE run_id = ? AND status = 'succeeded'`,
            )
            .run(toRunId, fromRunId).changes;
          // The resume owns the results now; the interrupted run is never resumed again.
          q.dropResults.run(fromRunId, KEEP_FINISHED_RESULT_BYTES);
          return copied;
        })
        .immediate();
    },
    async addUsage(runId, stepId, usage, costUsd, epoch) {
      db.transaction(() => {
        fence(runId, epoch);
        addUsageRows(runId, stepId, { usage, costUsd });
      }).immediate();
    },
    async addDelivery(runId, receipt: Receipt, epoch) {
      const detail = receipt.detail ? scrub(JSON.stringify(receipt.detail)) : null;
      durably(() =>
        fenced(runId, epoch, () => q.addDelivery.run(runId, runId, receipt.to, receipt.url ?? null, detail)),
      );
    },
    async recordDelivery(runId, stepId, delivery, epoch) {
      const write = () =>
        q.recordDelivery.run({
          runId,
          stepId,
          to: delivery.to,
          url: delivery.url ?? null,
          detail: delivery.detail ? scrub(JSON.stringify(delivery.detail)) : null,
          status: delivery.status,
          error: delivery.error ? storedText(delivery.error) : null,
        });
      durably(() => fenced(runId, epoch, write));
    },
    async slotRun(job, scheduledFor) {
      const row = q.slotRun.get(job, scheduledFor) as Row | undefined;
      return row ? toRecord(row) : null;
    },
    async reclaimRun(runId, owner, now) {
      const row = q.reclaim.get({ pid: owner.pid, instance: owner.instance, lease: now + leaseMs, runId }) as
        { epoch: number } | undefined;
      if (!row) throw new Error(`run #${runId} is not in the ledger`);
      return row.epoch;
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
    async setState(job, key, value, now, fence) {
      const encoded = encodeValue(value);
      durably(() => fenced(fence?.runId ?? 0, fence?.epoch, () => q.setState.run(job, key, encoded, now)));
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
      const steps = (q.steps.all(runId) as Row[]).map((step): StepRecord => ({
        id: step.step_id as string,
        status: step.status as StepRecord["status"],
        startedAt: iso(step.started_at as number) as string,
        finishedAt: iso(step.finished_at as number | null),
        error: (step.error as string | null) ?? null,
        usage: usageOf(step),
        costUsd: (step.cost_usd as number | null) ?? null,
        reusedFrom: (step.reused_from as number | null) ?? null,
      }));
      return { ...toRecord(row), steps };
    },
    async prune(before) {
      // Keep each job's catch-up cursor past the rows being deleted, or their slots would look missed.
      const removed = db
        .transaction(() => {
          db.prepare(
            `UPDATE job_cursor SET first_seen = MAX(first_seen, COALESCE((SELECT MAX(scheduled_for) FROM runs
          WHERE runs.job = job_cursor.job AND trigger IN ('schedule','catchup')), 0))`,
          ).run();
          return db
            .prepare(`DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < ? AND status NOT IN ${ACTIVE}`)
            .run(before).changes;
        })
        .immediate();
      if (removed) reclaimFreePages();
      return removed;
    },
    async pruneState(configuredJobs, before) {
      const removed = db
        .transaction(() => {
          // A job no longer configured: all its state goes once none of it was written within retention.
          const jobs = JSON.stringify(configuredJobs);
          const orphaned = db
            .prepare(
              `DELETE FROM job_state WHERE job NOT IN (SELECT value FROM json_each(?))
            AND job IN (SELECT job FROM job_state GROUP BY job HAVING MAX(updated_at) < ?)`,
            )
            .run(jobs, before).changes;
          // Feed caches of sources a job no longer reads (or that never changed) are only validators
          // and items for a conditional request: losing one costs one full fetch.
          const caches = db
            .prepare(`DELETE FROM job_state WHERE key LIKE 'http-cache:%' AND updated_at < ?`)
            .run(before).changes;
          return orphaned + caches;
        })
        .immediate();
      if (removed) reclaimFreePages();
      return removed;
    },
    async heartbeat(node) {
      db.transaction(() => {
        db.prepare(
          `INSERT INTO nodes (instance, host, pid, version, started_at, heartbeat_at, config_hash) VALUES (?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT (instance) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, config_hash = excluded.config_hash`,
        ).run(node.id, node.host, node.pid, node.version, node.startedAt, node.heartbeatAt, node.configHash);
        db.prepare(`DELETE FROM nodes WHERE heartbeat_at < ?`).run(node.heartbeatAt - NODE_SILENT_DROP_MS);
      }).immediate();
    },
    async listNodes(now) {
      return db
        .prepare(
          `SELECT instance AS id, host, pid, version, started_at AS "startedAt", heartbeat_at AS "heartbeatAt", config_hash AS "configHash" FROM nodes WHERE heartbeat_at >= ? ORDER BY started_at, instance`,
        )
        .all(now - NODE_SILENT_DROP_MS) as NodeInfo[];
    },
    async removeNode(id) {
      db.prepare(`DELETE FROM nodes WHERE instance = ?`).run(id);
    },
    async ping(now) {
      db.prepare(`INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`).run(now);
    },
    close() {
      closed = true;
      db.close();
    },
  };

  /** Gives the pages freed by deletions back to the file system (auto_vacuum=INCREMENTAL). */
  function reclaimFreePages(): void {
    try {
      db.pragma("incremental_vacuum");
    } catch (error) {
      options.warn?.(`could not shrink the ledger ${file} after pruning: ${(error as Error).message}`);
    }
  }

  const explain = (error: unknown) => {
    const code = String((error as { code?: unknown })?.code ?? "");
    return code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT") ? openError(file, error) : error;
  };
  const retrying = withRetries(store, MUST_LAND, () => closed, { warn: options.warn, explain });
  // The health check asks "writable now?": waiting out another process's lock would hang /healthz.
  retrying.ping = store.ping;
  return retrying;
}
