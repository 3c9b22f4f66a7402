/**
 * @module postgres-claims — a batch of claims in PostgreSQL in a few round trips, not a few per
 * claim. The batch is split by a hash of the job name into a fixed number of chunks (every daemon
 * splits the same way), and each chunk is claimed by one multi-row `INSERT … ON CONFLICT DO NOTHING
 * RETURNING`: a slot already claimed returns no row (duplicate). Jobs whose overlap policy reads
 * the job's active runs (skip, queue) are first locked by a transaction-scoped advisory lock per
 * job, all taken by one statement in the order of their lock keys (one order for every daemon, so
 * two daemons never wait on each other in a cycle); a chunk with only "allow" claims is one
 * statement. Each daemon starts at a random chunk and goes round, so daemons whose timers fire at
 * the same instant work on different chunks first: due runs spread across them, and a daemon
 * reaching a chunk another has claimed only collects duplicates.
 */
import type pg from "pg";
import { WAITING_FOR_CAPACITY, type ClaimResult, type Overlap, type Owner, type RunClaim } from "./store.ts";

/** Chunks per batch: enough for several daemons to start on different ones, few enough round trips. */
export const CLAIM_CHUNKS = 8;
const ACTIVE = "('queued','running','retrying')";

type Status = "running" | "queued" | "skipped";
type Db = pg.Pool | pg.PoolClient;

/** One row to insert: a claim with its status decided, or an unrun slot (`recordUnrun`). */
export interface ClaimRow {
  job: string;
  skill: string;
  trigger: string;
  status: Status | "missed";
  reason: string | null;
  scheduledFor: number;
  dryRun: boolean;
  resumeOf: number | null;
  /** Set for claims, empty for unrun slots (no holder, no lease). */
  owner: Owner | null;
}

/** FNV-1a: the same chunk for a job on every daemon. */
function chunkOf(job: string, chunks: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < job.length; i++) hash = Math.imul(hash ^ job.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % chunks;
}

/** Claim indexes grouped into chunks, each in (job, slot) order; the chunks from a random one on. */
export function chunkClaims(claims: RunClaim[], chunks = CLAIM_CHUNKS, random = Math.random): number[][] {
  const groups: number[][] = Array.from({ length: chunks }, () => []);
  claims.forEach((claim, index) => groups[chunkOf(claim.job, chunks)]?.push(index));
  const byKey = (a: number, b: number) => {
    const x = claims[a] as RunClaim;
    const y = claims[b] as RunClaim;
    return x.job < y.job ? -1 : x.job > y.job ? 1 : x.scheduledFor - y.scheduledFor || a - b;
  };
  const start = Math.floor(random() * chunks);
  return Array.from({ length: chunks }, (_, k) => (groups[(start + k) % chunks] as number[]).sort(byKey)).filter(
    (group) => group.length,
  );
}

const keyOf = (row: {
  job: string;
  scheduledFor: number;
  trigger: string;
  status: string;
  dryRun: boolean;
  resumeOf: number | null;
}) =>
  `${row.trigger}\u0000${row.status}\u0000${row.dryRun}\u0000${row.resumeOf}\u0000${row.scheduledFor}\u0000${row.job}`;

/**
 * Inserts the rows in the order given, in one statement; returns each row's id, or null where the
 * slot already had a row. Rows the database returns are matched by their content (RETURNING's order
 * is not promised); rows with the same content are interchangeable.
 */
export async function insertRows(db: Db, rows: ClaimRow[], now: number, leaseMs: number, dbNow: string) {
  if (!rows.length) return [];
  const returned = await db.query<{
    id: number;
    job: string;
    scheduled_for: number;
    trigger: string;
    status: string;
    dry_run: boolean;
    resume_of: number | null;
  }>(
    `INSERT INTO runs (job, skill, trigger, status, reason, scheduled_for, started_at, finished_at, attempt, dry_run, resume_of, owner_pid, owner_instance, lease_expires_at, epoch)
    SELECT job, skill, trigger, status, reason, scheduled_for, CASE WHEN status = 'running' THEN $9::bigint END,
      CASE WHEN status IN ('skipped','missed') THEN $9::bigint END, CASE WHEN status = 'running' THEN 1 ELSE 0 END,
      dry_run, resume_of, $10, $11, CASE WHEN $11 <> '' AND status NOT IN ('skipped','missed') THEN ${dbNow} + $12::bigint END, 1
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::boolean[], $8::bigint[])
      AS c(job, skill, trigger, status, reason, scheduled_for, dry_run, resume_of)
    ON CONFLICT DO NOTHING
    RETURNING id, job, scheduled_for, trigger, status, dry_run, resume_of`,
    [
      rows.map((r) => r.job),
      rows.map((r) => r.skill),
      rows.map((r) => r.trigger),
      rows.map((r) => r.status),
      rows.map((r) => r.reason),
      rows.map((r) => r.scheduledFor),
      rows.map((r) => r.dryRun),
      rows.map((r) => r.resumeOf),
      now,
      rows[0]?.owner?.pid ?? 0,
      rows[0]?.owner?.instance ?? "",
      leaseMs,
    ],
  );
  const ids = new Map<string, number[]>();
  for (const row of returned.rows.sort((a, b) => a.id - b.id)) {
    const key = keyOf({
      job: row.job,
      scheduledFor: row.scheduled_for,
      trigger: row.trigger,
      status: row.status,
      dryRun: row.dry_run,
      resumeOf: row.resume_of,
    });
    ids.set(key, [...(ids.get(key) ?? []), row.id]);
  }
  return rows.map((row) => ids.get(keyOf(row))?.shift() ?? null);
}

interface ActiveRow {
  id: number;
  job: string;
  status: string;
}

/** What the overlap policy (and the room left) makes of a claim, given the job's active runs. */
function decide(overlap: Overlap, active: ActiveRow[], room: number): { status: Status; reason: string | null } {
  if (active.length && overlap === "skip")
    return { status: "skipped", reason: `overlap: run #${active[0]?.id} of this job is still running` };
  if (active.length && overlap === "queue") {
    const queued = active.find((run) => run.status === "queued");
    return queued
      ? { status: "skipped", reason: `overlap: run #${queued.id} is already queued behind the running one` }
      : { status: "queued", reason: `queued behind run #${active[0]?.id}` };
  }
  return room > 0 ? { status: "running", reason: null } : { status: "queued", reason: WAITING_FOR_CAPACITY };
}

export interface ChunkContext {
  claims: RunClaim[];
  owner: Owner;
  now: number;
  leaseMs: number;
  dbNow: string;
  pool: pg.Pool;
  tx: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;
}

/**
 * Claims one chunk (indexes into `ctx.claims`, in (job, slot) order) with `room` runs left to start;
 * returns the results in the chunk's order.
 */
export async function claimChunk(ctx: ChunkContext, chunk: number[], room: number): Promise<ClaimResult[]> {
  const claims = chunk.map((index) => ctx.claims[index] as RunClaim);
  const locked = [...new Set(claims.filter((c) => c.overlap !== "allow").map((c) => c.job))];
  if (!locked.length) return claimRows(ctx.pool, ctx, claims, new Map(), room);
  return ctx.tx(async (client) => {
    // Every lock in one statement, in key order: the same order on every daemon.
    await client.query(
      `SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT hashtextextended(job, 0) AS k FROM unnest($1::text[]) AS job ORDER BY k) AS locks`,
      [locked],
    );
    const rows = (
      await client.query<ActiveRow>(
        `SELECT id, job, status FROM runs WHERE job = ANY($1) AND status IN ${ACTIVE} ORDER BY id`,
        [locked],
      )
    ).rows;
    const active = new Map<string, ActiveRow[]>();
    for (const row of rows) active.set(row.job, [...(active.get(row.job) ?? []), row]);
    return claimRows(client, ctx, claims, active, room);
  });
}

async function claimRows(
  db: Db,
  ctx: ChunkContext,
  claims: RunClaim[],
  active: Map<string, ActiveRow[]>,
  room: number,
): Promise<ClaimResult[]> {
  // The first claim of each overlap job is decided against the active runs read above; a further
  // claim of the same job in this batch (slots caught up) depends on what the first became, so it
  // goes in a second round once the first has its row.
  const first = new Set<string>();
  const now: number[] = [];
  const later: number[] = [];
  claims.forEach((claim, i) => {
    if (claim.overlap === "allow" || !first.has(claim.job)) {
      if (claim.overlap !== "allow") first.add(claim.job);
      now.push(i);
    } else later.push(i);
  });
  const results: ClaimResult[] = new Array(claims.length);
  const decided = now.map((i) => {
    const claim = claims[i] as RunClaim;
    const decision = decide(claim.overlap, active.get(claim.job) ?? [], room);
    if (decision.status === "running") room--;
    return { i, ...decision };
  });
  const ids = await insertRows(
    db,
    decided.map(({ i, status, reason }) => rowOf(claims[i] as RunClaim, status, reason, ctx.owner)),
    ctx.now,
    ctx.leaseMs,
    ctx.dbNow,
  );
  decided.forEach(({ i, status, reason }, k) => {
    const runId = ids[k] ?? null;
    if (runId === null) {
      results[i] = { runId: null, status: "duplicate" };
      if (status === "running") room++;
      return;
    }
    results[i] =
      status === "running" ? { runId, status, epoch: 1 } : { runId, status, reason: reason as string, epoch: 1 };
    const claim = claims[i] as RunClaim;
    if (status !== "skipped")
      active.set(claim.job, [...(active.get(claim.job) ?? []), { id: runId, job: claim.job, status }]);
  });
  // Room a duplicate did not use goes to the claims queued for it, in order.
  const promote: number[] = [];
  for (const { i } of decided) {
    const result = results[i] as ClaimResult;
    if (room <= 0) break;
    if (result.status === "queued" && result.reason === WAITING_FOR_CAPACITY) {
      promote.push(result.runId);
      results[i] = { runId: result.runId, status: "running", epoch: 1 };
      room--;
    }
  }
  if (promote.length)
    await db.query(
      `UPDATE runs SET status = 'running', reason = NULL, started_at = $1, attempt = 1 WHERE id = ANY($2)`,
      [ctx.now, promote],
    );
  for (const i of later) {
    const claim = claims[i] as RunClaim;
    const decision = decide(claim.overlap, active.get(claim.job) ?? [], room);
    const [runId = null] = await insertRows(
      db,
      [rowOf(claim, decision.status, decision.reason, ctx.owner)],
      ctx.now,
      ctx.leaseMs,
      ctx.dbNow,
    );
    if (runId === null) {
      results[i] = { runId: null, status: "duplicate" };
      continue;
    }
    if (decision.status === "running") room--;
    if (decision.status !== "skipped")
      active.set(claim.job, [...(active.get(claim.job) ?? []), { id: runId, job: claim.job, status: decision.status }]);
    results[i] =
      decision.status === "running"
        ? { runId, status: "running", epoch: 1 }
        : { runId, status: decision.status, reason: decision.reason as string, epoch: 1 };
  }
  return results;
}

function rowOf(claim: RunClaim, status: Status, reason: string | null, owner: Owner): ClaimRow {
  return {
    job: claim.job,
    skill: claim.skill,
    trigger: claim.trigger,
    status,
    reason,
    scheduledFor: claim.scheduledFor,
    dryRun: Boolean(claim.dryRun),
    resumeOf: claim.resumeOf ?? null,
    owner,
  };
}

/**
 * A chunk tried again after its first try failed on the connection: if that try's commit landed
 * (only its answer was lost), the rows are there, held by this daemon, and a plain retry would see
 * its own slots as duplicates (runs nobody starts, their leases renewed for ever) or, for manual
 * runs, insert a second row. So rows this owner holds for the same claims (same job, instant,
 * trigger, resume and dry-run flag; first epoch) are taken as the claims' results, and only the
 * others are claimed.
 */
export async function claimChunkAgain(ctx: ChunkContext, chunk: number[], room: number): Promise<ClaimResult[]> {
  const claims = chunk.map((index) => ctx.claims[index] as RunClaim);
  const { rows } = await ctx.pool.query<{
    id: number;
    job: string;
    scheduled_for: number;
    trigger: string;
    status: string;
    dry_run: boolean;
    resume_of: number | null;
    reason: string | null;
    epoch: number;
  }>(
    `SELECT id, job, scheduled_for, trigger, status, dry_run, resume_of, reason, epoch FROM runs
    WHERE owner_instance = $1 AND epoch = 1 AND job = ANY($2) AND scheduled_for = ANY($3) ORDER BY id`,
    [ctx.owner.instance, [...new Set(claims.map((c) => c.job))], [...new Set(claims.map((c) => c.scheduledFor))]],
  );
  const results: (ClaimResult | undefined)[] = Array.from({ length: chunk.length }, () => undefined);
  const taken = new Set<number>();
  claims.forEach((claim, k) => {
    const row = rows.find(
      (r) =>
        !taken.has(r.id) &&
        r.job === claim.job &&
        r.scheduled_for === claim.scheduledFor &&
        r.trigger === claim.trigger &&
        r.dry_run === Boolean(claim.dryRun) &&
        r.resume_of === (claim.resumeOf ?? null),
    );
    if (!row) return;
    taken.add(row.id);
    if (row.status === "running") room--;
    results[k] =
      row.status === "running"
        ? { runId: row.id, status: "running", epoch: row.epoch }
        : {
            runId: row.id,
            status: row.status as "queued" | "skipped",
            reason: row.reason ?? "",
            epoch: row.epoch,
          };
  });
  const rest = chunk.filter((_, k) => !results[k]);
  const claimed = rest.length ? await claimChunk(ctx, rest, room) : [];
  let next = 0;
  return results.map((result) => result ?? (claimed[next++] as ClaimResult));
}
