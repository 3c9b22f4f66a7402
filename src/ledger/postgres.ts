/**
 * @module postgres — the run ledger in PostgreSQL (`pg`), shared by any number of daemons. What each
 * guarantee rests on: one row per slot on the partial unique index (`INSERT … ON CONFLICT DO
 * NOTHING`); the overlap policy on a per-job advisory lock held by the claiming transaction;
 * takeover on `FOR UPDATE SKIP LOCKED` (two daemons never take the same row); leases judged by the
 * database's clock (`clock_timestamp()`), never a daemon's; every write of a run fenced by its epoch
 * under the run row's lock; an operator's cancel of a run another daemon holds on a column of its
 * row (durable), with NOTIFY only as the fast path. Same lease model and semantics as the SQLite
 * store (see store.ts).
 */
import pg from "pg";
import type { DeliveryRecord, Receipt, RunRecord, RunStatus, StepRecord } from "../types.ts";
import { decodeValue, encodeValue } from "../util/json.ts";
import { postgresSpendMethods } from "./postgres-spend.ts";
import { migratePostgres } from "./postgres-schema.ts";
import { isConnectionFault, withPgRetries } from "./postgres-retry.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { chunkClaims, claimChunk, claimChunkAgain, insertRows } from "./postgres-claims.ts";
import { CONTROL_CHANNEL, postgresControlChannel } from "./postgres-listen.ts";
import {
  LeaseLostError,
  NODE_SILENT_DROP_MS,
  type NodeInfo,
  type JobPause,
  type ActiveRun,
  type ClaimResult,
  type InterruptedRun,
  type RunQuery,
  type RunStore,
  type StepUsage,
  type StoredStep,
} from "./store.ts";
import { stripControls } from "../util/terminal-text.ts";
import { KEEP_FINISHED_RESULT_BYTES } from "./sqlite.ts";
import { iso, runRecord, usageOf, type Row } from "./rows.ts";

const ACTIVE = "('queued','running','retrying')";
/** The database's clock in epoch ms: leases are judged by one clock, whatever the daemons' clocks say. */
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
const NOT_KEPT = "$sundialNotKept";
type Db = pg.PoolClient | pg.Pool;

/** bigint and numeric come back as numbers (times in ms, token counts): far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

export interface PostgresStoreOptions {
  scrub?: (text: string) => string;
  leaseMs?: number;
  warn?: (message: string) => void;
  maxStepResultBytes?: number;
  /** Connections per daemon (default 10). */
  poolSize?: number;
  /** Longest a statement may run (default 30 s); a stuck query fails instead of hanging a run. */
  statementTimeoutMs?: number;
  /** How long an operation is retried through a lost connection before it fails (default 60 s; final rows forever). */
  reconnectBudgetMs?: number;
}

/** A URL with its password masked, for messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an invalid URL)";
  }
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<RunStore> {
  const scrub = options.scrub ?? ((text: string) => text);
  const leaseMs = options.leaseMs ?? 30_000;
  const storedText = (text: string) => scrub(stripControls(text));
  const maxResult = options.maxStepResultBytes ?? 16 * 1024 * 1024;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "sundial",
    types,
  });
  // An idle connection dropped by the server (a restart) must not crash the daemon: the pool
  // discards it and the next operation opens a new one.
  pool.on("error", (error) =>
    options.warn?.(`a PostgreSQL connection was lost (${error.message}); reconnecting on the next write`),
  );
  // A connection dropped while a transaction holds it fails that transaction's query (retried); the
  // client's own error event is only noted, never left unhandled.
  pool.on("connect", (client) =>
    client.on("error", (error) => options.warn?.(`a PostgreSQL connection was lost (${error.message})`)),
  );
  let closed = false;
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(
      `cannot open the PostgreSQL ledger at ${describeUrl(url)}: ${(error as Error).message}. Check SUNDIAL_DATABASE_URL and that the server accepts connections.`,
      { cause: error },
    );
  }

  async function tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      broken = error as Error;
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      // A client whose transaction failed for a connection fault is destroyed rather than reused.
      client.release(broken && !(broken instanceof LeaseLostError) && !("severity" in broken) ? broken : undefined);
    }
  }

  const all = async <T = Row>(db: Db, sql: string, args: unknown[] = []) => (await db.query(sql, args)).rows as T[];
  const one = async <T = Row>(db: Db, sql: string, args: unknown[] = []) => (await all<T>(db, sql, args))[0];
  const changes = async (db: Db, sql: string, args: unknown[] = []) => (await db.query(sql, args)).rowCount ?? 0;

  /** Locks the run's row and refuses the write when its epoch moved on (see LeaseLostError). */
  async function fence(db: Db, runId: number, epoch: number | undefined): Promise<void> {
    if (epoch === undefined) return;
    const row = await one<{ epoch: number }>(db, "SELECT epoch FROM runs WHERE id = $1 FOR UPDATE", [runId]);
    if (row?.epoch !== epoch) throw new LeaseLostError(runId, epoch);
  }
  const fenced = <T>(runId: number, epoch: number | undefined, write: (db: Db) => Promise<T>) =>
    tx(async (client) => {
      await fence(client, runId, epoch);
      return write(client);
    });

  async function addUsageRows(
    db: Db,
    runId: number,
    stepId: string | null,
    { usage, costUsd }: StepUsage,
  ): Promise<void> {
    const args = [usage.inputTokens, usage.outputTokens, usage.cacheWriteTokens, usage.cacheReadTokens, costUsd];
    const set = `input_tokens = input_tokens + $1, output_tokens = output_tokens + $2, cache_write_tokens = cache_write_tokens + $3,
      cache_read_tokens = cache_read_tokens + $4, cost_usd = CASE WHEN $5::float8 IS NULL THEN NULL ELSE cost_usd + $5::float8 END`;
    await db.query(`UPDATE runs SET ${set} WHERE id = $6`, [...args, runId]);
    if (stepId !== null)
      await db.query(`UPDATE steps SET ${set} WHERE run_id = $6 AND step_id = $7`, [...args, runId, stepId]);
  }

  async function toRecords(db: Db, rows: Row[]): Promise<RunRecord[]> {
    const ids = rows.map((row) => row.id as number);
    const deliveries = ids.length
      ? await all<DeliveryRecord & { run_id: number }>(
          db,
          `SELECT run_id, target AS "to", url, status, error FROM deliveries WHERE run_id = ANY($1) ORDER BY run_id, seq`,
          [ids],
        )
      : [];
    const byRun = new Map<number, DeliveryRecord[]>();
    for (const { run_id, to, url: link, status, error } of deliveries)
      byRun.set(run_id, [...(byRun.get(run_id) ?? []), { to, url: link, status, error }]);
    return rows.map((row) => runRecord(row, byRun.get(row.id as number) ?? []));
  }

  const store: RunStore = {
    shared: true,
    ...postgresSpendMethods(pool, tx),
    async claimRuns(claims, owner, now, capacity = Number.POSITIVE_INFINITY) {
      // A few round trips per batch (see postgres-claims.ts). With room for every claim the chunks
      // go at once (they touch disjoint jobs); with less, one after another so the room left passes on.
      const ctx = { claims, owner, now, leaseMs, dbNow: DB_NOW, pool, tx };
      // Each chunk is retried on its own through a lost connection, recognising its own rows if the
      // failed try's commit landed (see claimChunkAgain); chunks already claimed are not redone.
      const claimChunkSurely = async (chunk: number[], room: number): Promise<ClaimResult[]> => {
        for (let tries = 1; ; tries++) {
          try {
            return await (tries === 1 ? claimChunk(ctx, chunk, room) : claimChunkAgain(ctx, chunk, room));
          } catch (error) {
            if (!isConnectionFault(error) || closed) throw error;
            if (tries === 1 || tries % 10 === 0)
              options.warn?.(
                `claiming runs lost its PostgreSQL connection (${(error as Error).message}); retrying (try ${tries})`,
              );
            await sleep(Math.min(5_000, 50 * 2 ** Math.min(tries, 7)));
          }
        }
      };
      const chunks = chunkClaims(claims);
      const results: ClaimResult[] = new Array(claims.length);
      const place = (chunk: number[], out: ClaimResult[]) =>
        out.forEach((result, k) => (results[chunk[k] as number] = result));
      if (capacity >= claims.length) {
        const outs = await Promise.all(chunks.map((chunk) => claimChunkSurely(chunk, capacity)));
        chunks.forEach((chunk, k) => place(chunk, outs[k] as ClaimResult[]));
        return results;
      }
      let left = capacity;
      for (const chunk of chunks) {
        const out = await claimChunkSurely(chunk, left);
        left -= out.filter((result) => result.status === "running").length;
        place(chunk, out);
      }
      return results;
    },
    async recordUnrun(rows, now) {
      const sorted = [...rows].sort((a, b) =>
        a.job < b.job ? -1 : a.job > b.job ? 1 : a.scheduledFor - b.scheduledFor,
      );
      const ids = await insertRows(
        pool,
        sorted.map((row) => ({
          ...row,
          trigger: "schedule",
          dryRun: false,
          resumeOf: null,
          owner: null,
        })),
        now,
        leaseMs,
        DB_NOW,
      );
      return ids.filter((id) => id !== null).length;
    },
    async jobCursors(jobs, now) {
      const cursors = new Map<string, number>();
      if (!jobs.length) return cursors;
      await pool.query(
        `INSERT INTO job_cursor (job, first_seen) SELECT job, $2 FROM unnest($1::text[]) AS job ON CONFLICT DO NOTHING`,
        [jobs, now],
      );
      const rows = await all<{ job: string; first_seen: number; last: number | null }>(
        pool,
        `SELECT c.job, c.first_seen,
        (SELECT MAX(scheduled_for) FROM runs r WHERE r.job = c.job AND r.trigger IN ('schedule','catchup')) AS last
        FROM job_cursor c WHERE c.job = ANY($1)`,
        [jobs],
      );
      for (const row of rows) cursors.set(row.job, Math.max(row.last ?? row.first_seen, row.first_seen));
      return cursors;
    },
    async markRunning(runId, attempt, now, epoch) {
      const n = await changes(
        pool,
        `UPDATE runs SET status = 'running', attempt = $1, started_at = COALESCE(started_at, $2), reason = NULL, lease_expires_at = ${DB_NOW} + $3::bigint
        WHERE id = $4 AND ($5::bigint IS NULL OR epoch = $5::bigint)`,
        [attempt, now, leaseMs, runId, epoch ?? null],
      );
      if (n === 0 && epoch !== undefined) throw new LeaseLostError(runId, epoch);
    },
    async markRetrying(runId, attempt, error, epoch) {
      const n = await changes(
        pool,
        `UPDATE runs SET status = 'retrying', attempt = $1, error = $2 WHERE id = $3 AND ($4::bigint IS NULL OR epoch = $4::bigint)`,
        [attempt, storedText(error), runId, epoch ?? null],
      );
      if (n === 0 && epoch !== undefined) throw new LeaseLostError(runId, epoch);
    },
    async finishRun(runId, outcome, now, epoch, usage) {
      // One statement (one round trip, atomic): the row locked, the epoch checked, the final row and
      // its usage written, and, unless the run may be taken up again (interrupted: its resume; a
      // failed delivery: `redeliver`), its large step results dropped.
      const args = [
        runId,
        outcome.status,
        outcome.reason ? storedText(outcome.reason) : null,
        outcome.error ? storedText(outcome.error) : null,
        now,
        epoch ?? null,
        usage !== undefined,
        usage?.usage.inputTokens ?? 0,
        usage?.usage.outputTokens ?? 0,
        usage?.usage.cacheWriteTokens ?? 0,
        usage?.usage.cacheReadTokens ?? 0,
        usage?.costUsd ?? null,
        KEEP_FINISHED_RESULT_BYTES,
      ];
      const row = await one<{ epoch: number; status: string; finished_at: number | null; done: boolean }>(
        pool,
        `WITH cur AS (SELECT id, epoch, status, finished_at FROM runs WHERE id = $1 FOR UPDATE),
        finished AS (
          UPDATE runs SET status = $2, reason = $3, error = $4, finished_at = $5, lease_expires_at = NULL, epoch = runs.epoch + 1,
            input_tokens = input_tokens + $8, output_tokens = output_tokens + $9, cache_write_tokens = cache_write_tokens + $10,
            cache_read_tokens = cache_read_tokens + $11,
            cost_usd = CASE WHEN NOT $7::boolean THEN cost_usd WHEN $12::float8 IS NULL THEN NULL ELSE cost_usd + $12::float8 END
          FROM cur WHERE runs.id = cur.id AND ($6::bigint IS NULL OR cur.epoch = $6::bigint)
          AND NOT (cur.status = $2 AND cur.finished_at IS NOT DISTINCT FROM $5::bigint)
          RETURNING runs.id),
        dropped AS (
          UPDATE steps SET result = json_build_object('${NOT_KEPT}', length(result))::text
          WHERE run_id = $1 AND length(result) > $13 AND $2 <> 'interrupted' AND EXISTS (SELECT 1 FROM finished)
          AND NOT EXISTS (SELECT 1 FROM deliveries WHERE run_id = $1 AND status <> 'succeeded'))
        SELECT epoch, status, finished_at, EXISTS (SELECT 1 FROM finished) AS done FROM cur`,
        args,
      );
      if (!row || row.done) return;
      // Tried again after a lost connection whose commit did land: already done, nothing twice.
      if (row.status === outcome.status && row.finished_at === now && (epoch === undefined || row.epoch === epoch + 1))
        return;
      if (epoch !== undefined) throw new LeaseLostError(runId, epoch);
    },
    async activeRuns(job) {
      return all<ActiveRun>(
        pool,
        `SELECT id, status, reason, scheduled_for AS "scheduledFor", owner_pid AS "ownerPid", owner_instance AS "ownerInstance", epoch
        FROM runs WHERE job = $1 AND status IN ${ACTIVE} ORDER BY id`,
        [job],
      );
    },
    async renewLeases(owner) {
      return changes(
        pool,
        `UPDATE runs SET lease_expires_at = ${DB_NOW} + $1::bigint WHERE owner_instance = $2 AND status IN ${ACTIVE}`,
        [leaseMs, owner.instance],
      );
    },
    async interruptExpired(self, now, reason, isGone) {
      // Candidates without locks; the UPDATE below re-checks each under its row lock, skipping rows
      // another daemon is taking (or writing) right now.
      const rows = await all<{ id: number; ownerPid: number; ownerInstance: string; expired: boolean }>(
        pool,
        `SELECT id, owner_pid AS "ownerPid", owner_instance AS "ownerInstance",
        (lease_expires_at IS NULL OR lease_expires_at < ${DB_NOW}) AS expired FROM runs WHERE status IN ${ACTIVE} AND owner_instance <> $1`,
        [self.instance],
      );
      const expired = rows.filter((row) => row.expired).map((row) => row.id);
      const gone = rows
        .filter((row) => !row.expired && isGone?.({ pid: row.ownerPid, instance: row.ownerInstance }))
        .map((row) => row.id);
      if (!expired.length && !gone.length) return [];
      return all<InterruptedRun>(
        pool,
        // A run whose cancel was requested ends cancelled, not interrupted: it is not resumed.
        `UPDATE runs SET status = CASE WHEN cancel_requested_at IS NULL THEN 'interrupted' ELSE 'cancelled' END,
          reason = CASE WHEN cancel_requested_at IS NULL THEN $1 ELSE cancel_reason END, finished_at = $2, lease_expires_at = NULL, epoch = epoch + 1
        WHERE id IN (SELECT id FROM runs WHERE status IN ${ACTIVE} AND owner_instance <> $3
          AND ((id = ANY($4) AND (lease_expires_at IS NULL OR lease_expires_at < ${DB_NOW})) OR id = ANY($5)) ORDER BY id FOR UPDATE SKIP LOCKED)
        RETURNING id, job, owner_pid AS "ownerPid", owner_instance AS "ownerInstance"`,
        [reason, now, self.instance, expired, gone],
      ).then((taken) => taken.sort((a, b) => a.id - b.id));
    },
    async resumableRuns(since) {
      const rows = await all(
        pool,
        `SELECT * FROM runs r WHERE status = 'interrupted' AND resume_of IS NULL AND NOT dry_run AND finished_at >= $1
        AND NOT EXISTS (SELECT 1 FROM runs x WHERE x.resume_of = r.id) ORDER BY id`,
        [since],
      );
      return toRecords(pool, rows);
    },
    async getStep(runId, stepId) {
      const row = await one<{ status: string; result: string | null }>(
        pool,
        "SELECT status, result FROM steps WHERE run_id = $1 AND step_id = $2",
        [runId, stepId],
      );
      if (!row || row.status !== "succeeded") return null;
      const result = row.result === null ? undefined : decodeValue(row.result);
      if (result && typeof result === "object" && NOT_KEPT in result) return null;
      return { status: "succeeded", result } satisfies StoredStep;
    },
    async startStep(runId, stepId, now, epoch) {
      await fenced(runId, epoch, (db) =>
        db.query(
          `INSERT INTO steps (run_id, step_id, status, started_at, seq) VALUES ($1, $2, 'running', $3, (SELECT COUNT(*) FROM steps WHERE run_id = $1))
          ON CONFLICT (run_id, step_id) DO UPDATE SET status = 'running', started_at = excluded.started_at, finished_at = NULL, error = NULL`,
          [runId, stepId, now],
        ),
      );
    },
    async finishStep(runId, stepId, result, now, epoch, usage) {
      let text = result === undefined ? null : scrub(encodeValue(result));
      if (text !== null && Buffer.byteLength(text) > maxResult)
        text = JSON.stringify({ [NOT_KEPT]: Buffer.byteLength(text) });
      await fenced(runId, epoch, async (db) => {
        // The step's usage lands with its result; a retry after a commit whose answer was lost adds nothing twice.
        const n = await changes(
          db,
          `UPDATE steps SET status = 'succeeded', finished_at = $1, result = $2 WHERE run_id = $3 AND step_id = $4
          AND NOT (status = 'succeeded' AND finished_at IS NOT DISTINCT FROM $1)`,
          [now, text, runId, stepId],
        );
        if (n && usage) await addUsageRows(db, runId, stepId, usage);
      });
    },
    async failStep(runId, stepId, error, now, epoch, usage) {
      await fenced(runId, epoch, async (db) => {
        const n = await changes(
          db,
          `UPDATE steps SET status = 'failed', finished_at = $1, error = $2 WHERE run_id = $3 AND step_id = $4
          AND NOT (status = 'failed' AND finished_at IS NOT DISTINCT FROM $1)`,
          [now, storedText(error), runId, stepId],
        );
        if (n && usage) await addUsageRows(db, runId, stepId, usage);
      });
    },
    async copyFinishedSteps(fromRunId, toRunId) {
      return tx(async (client) => {
        const copied = await changes(
          client,
          `INSERT INTO steps (run_id, step_id, status, started_at, finished_at, result, seq, reused_from)
          SELECT $1, step_id, status, started_at, finished_at, result, seq, COALESCE(reused_from, run_id) FROM steps WHERE run_id = $2 AND status = 'succeeded'
          ON CONFLICT DO NOTHING`,
          [toRunId, fromRunId],
        );
        await dropResults(client, fromRunId);
        return copied;
      });
    },
    async addUsage(runId, stepId, usage, costUsd, epoch) {
      await fenced(runId, epoch, (db) => addUsageRows(db, runId, stepId, { usage, costUsd }));
    },
    async addDelivery(runId, receipt: Receipt, epoch) {
      const detail = receipt.detail ? scrub(JSON.stringify(receipt.detail)) : null;
      await fenced(runId, epoch, async (db) => {
        // Lock the run's row when not fenced too: two deliveries of one run never take the same seq.
        if (epoch === undefined) await db.query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", [runId]);
        await db.query(
          `INSERT INTO deliveries (run_id, seq, target, url, detail) VALUES ($1, (SELECT COUNT(*) FROM deliveries WHERE run_id = $1), $2, $3, $4)`,
          [runId, receipt.to, receipt.url ?? null, detail],
        );
      });
    },
    async recordDelivery(runId, stepId, delivery, epoch) {
      await fenced(runId, epoch, async (db) => {
        if (epoch === undefined) await db.query("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", [runId]);
        await db.query(
          `INSERT INTO deliveries (run_id, seq, target, url, detail, step_id, status, error)
          VALUES ($1, (SELECT COUNT(*) FROM deliveries WHERE run_id = $1), $2, $3, $4, $5, $6, $7)
          ON CONFLICT (run_id, step_id) WHERE step_id IS NOT NULL DO UPDATE SET url = excluded.url, detail = excluded.detail, status = excluded.status, error = excluded.error`,
          [
            runId,
            delivery.to,
            delivery.url ?? null,
            delivery.detail ? scrub(JSON.stringify(delivery.detail)) : null,
            stepId,
            delivery.status,
            delivery.error ? storedText(delivery.error) : null,
          ],
        );
      });
    },
    async slotRun(job, scheduledFor) {
      const row = await one(
        pool,
        `SELECT * FROM runs WHERE job = $1 AND scheduled_for = $2 AND trigger IN ('schedule','catchup')`,
        [job, scheduledFor],
      );
      return row ? ((await toRecords(pool, [row]))[0] as RunRecord) : null;
    },
    async reclaimRun(runId, owner) {
      const row = await one<{ epoch: number }>(
        pool,
        `UPDATE runs SET owner_pid = $1, owner_instance = $2, lease_expires_at = ${DB_NOW} + $3::bigint, epoch = epoch + 1 WHERE id = $4 RETURNING epoch`,
        [owner.pid, owner.instance, leaseMs, runId],
      );
      if (!row) throw new Error(`run #${runId} is not in the ledger`);
      return row.epoch;
    },
    async cancelQueued(runId, reason, now) {
      return (
        (await changes(
          pool,
          `UPDATE runs SET status = 'cancelled', reason = $1, finished_at = $2, lease_expires_at = NULL WHERE id = $3 AND status = 'queued'`,
          [reason, now, runId],
        )) > 0
      );
    },
    async requestCancel(runId, reason, now) {
      // Recorded on the row first (never lost), then announced to its holder on commit (fast).
      const row = await one<{ owner: string }>(
        pool,
        `WITH asked AS (UPDATE runs SET cancel_requested_at = COALESCE(cancel_requested_at, $3), cancel_reason = COALESCE(cancel_reason, $2)
          WHERE id = $1 AND status IN ${ACTIVE} RETURNING id, owner_instance)
        SELECT owner_instance AS owner, pg_notify('${CONTROL_CHANNEL}', json_build_object('type', 'cancel', 'runId', id, 'owner', owner_instance)::text) FROM asked`,
        [runId, storedText(reason), now],
      );
      return row?.owner ?? null;
    },
    async cancelRequests(owner) {
      return all<{ runId: number; reason: string }>(
        pool,
        `SELECT id AS "runId", COALESCE(cancel_reason, 'cancelled by an operator') AS reason FROM runs
        WHERE owner_instance = $1 AND cancel_requested_at IS NOT NULL AND status IN ${ACTIVE} ORDER BY id`,
        [owner.instance],
      );
    },
    controlChannel: postgresControlChannel(url, pool),
    async pauses() {
      const rows = await all<{ job: string } & JobPause>(
        pool,
        `SELECT job, reason, paused_at AS "pausedAt" FROM job_pauses`,
      );
      return new Map(rows.map(({ job, reason, pausedAt }) => [job, { reason, pausedAt }]));
    },
    async setPause(job, reason, now) {
      await pool.query(
        `INSERT INTO job_pauses (job, reason, paused_at) VALUES ($1, $2, $3) ON CONFLICT (job) DO UPDATE SET reason = excluded.reason`,
        [job, reason, now],
      );
    },
    async clearPause(job) {
      return (await changes(pool, `DELETE FROM job_pauses WHERE job = $1`, [job])) > 0;
    },
    async loadState(job) {
      const rows = await all<{ key: string; value: string }>(pool, "SELECT key, value FROM job_state WHERE job = $1", [
        job,
      ]);
      return new Map(rows.map((row) => [row.key, decodeValue(row.value)]));
    },
    async setState(job, key, value, now, fenceOf) {
      const encoded = encodeValue(value);
      await fenced(fenceOf?.runId ?? 0, fenceOf?.epoch, (db) =>
        db.query(
          `INSERT INTO job_state (job, key, value, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (job, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          [job, key, encoded, now],
        ),
      );
    },
    async lastSuccessAt(job) {
      const row = await one<{ at: number }>(
        pool,
        `SELECT finished_at AS at FROM runs WHERE job = $1 AND status = 'succeeded' AND NOT dry_run ORDER BY id DESC LIMIT 1`,
        [job],
      );
      return row?.at ?? null;
    },
    async shouldAlert(job, runId) {
      const row = await one<{ n: number }>(
        pool,
        `SELECT COUNT(*) AS n FROM runs WHERE job = $1 AND id < $2 AND alerted_at IS NOT NULL AND NOT dry_run
        AND id > COALESCE((SELECT MAX(id) FROM runs WHERE job = $1 AND status = 'succeeded' AND NOT dry_run), 0)`,
        [job, runId],
      );
      return row?.n === 0;
    },
    async markAlerted(runId, now) {
      await pool.query("UPDATE runs SET alerted_at = $1 WHERE id = $2", [now, runId]);
    },
    async previousOutcome(job, runId) {
      const row = await one<{ status: RunStatus }>(
        pool,
        `SELECT status FROM runs WHERE job = $1 AND id < $2 AND NOT dry_run AND status IN ('succeeded','failed','timed_out') ORDER BY id DESC LIMIT 1`,
        [job, runId],
      );
      return row?.status ?? null;
    },
    async listRuns(query: RunQuery) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (query.job) where.push(`job = $${args.push(query.job)}`);
      if (query.status) where.push(`status = $${args.push(query.status)}`);
      if (query.before !== undefined) where.push(`id < $${args.push(query.before)}`);
      const limit = `$${args.push(query.limit ?? 20)}`;
      const rows = await all(
        pool,
        `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ${limit}`,
        args,
      );
      return toRecords(pool, rows);
    },
    async getRun(runId) {
      const row = await one(pool, "SELECT * FROM runs WHERE id = $1", [runId]);
      if (!row) return null;
      const steps = (await all(pool, "SELECT * FROM steps WHERE run_id = $1 ORDER BY seq, started_at", [runId])).map(
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
      const [record] = await toRecords(pool, [row]);
      return { ...(record as RunRecord), steps };
    },
    async prune(before) {
      return tx(async (client) => {
        await client.query(`UPDATE job_cursor SET first_seen = GREATEST(first_seen, COALESCE((SELECT MAX(scheduled_for) FROM runs
          WHERE runs.job = job_cursor.job AND trigger IN ('schedule','catchup')), 0))`);
        return changes(
          client,
          `DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1 AND status NOT IN ${ACTIVE}`,
          [before],
        );
      });
    },
    async pruneState(configuredJobs, before) {
      return tx(async (client) => {
        const orphaned = await changes(
          client,
          `DELETE FROM job_state WHERE NOT (job = ANY($1))
          AND job IN (SELECT job FROM job_state GROUP BY job HAVING MAX(updated_at) < $2)`,
          [configuredJobs, before],
        );
        const caches = await changes(
          client,
          `DELETE FROM job_state WHERE key LIKE 'http-cache:%' AND updated_at < $1`,
          [before],
        );
        return orphaned + caches;
      });
    },
    async heartbeat(node) {
      await pool.query(
        `INSERT INTO nodes (instance, host, pid, version, started_at, heartbeat_at, config_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (instance) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, config_hash = excluded.config_hash`,
        [node.id, node.host, node.pid, node.version, node.startedAt, node.heartbeatAt, node.configHash],
      );
      await pool.query(`DELETE FROM nodes WHERE heartbeat_at < $1`, [node.heartbeatAt - NODE_SILENT_DROP_MS]);
    },
    async listNodes(now) {
      return all<NodeInfo>(
        pool,
        `SELECT instance AS id, host, pid, version, started_at AS "startedAt", heartbeat_at AS "heartbeatAt", config_hash AS "configHash" FROM nodes WHERE heartbeat_at >= $1 ORDER BY started_at, instance`,
        [now - NODE_SILENT_DROP_MS],
      );
    },
    async removeNode(id) {
      await pool.query(`DELETE FROM nodes WHERE instance = $1`, [id]);
    },
    async ping(now) {
      await pool.query("INSERT INTO health (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at", [
        now,
      ]);
    },
    close() {
      if (closed) return;
      closed = true;
      void pool.end().catch(() => undefined);
    },
  };

  /** Once a run has ended (other than interrupted) nobody reuses its steps: larger results are dropped. */
  async function dropResults(db: Db, runId: number): Promise<void> {
    await db.query(
      `UPDATE steps SET result = json_build_object('${NOT_KEPT}', length(result))::text WHERE run_id = $1 AND length(result) > $2`,
      [runId, KEEP_FINISHED_RESULT_BYTES],
    );
  }

  const retrying = withPgRetries(store, () => closed, { warn: options.warn, budgetMs: options.reconnectBudgetMs });
  retrying.ping = store.ping;
  return retrying;
}
