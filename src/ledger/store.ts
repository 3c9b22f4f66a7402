/**
 * @module store — the ledger's port: everything the scheduler, the runner and the CLI ask of the
 * run ledger. SQLite implements it today; a networked store can implement it later without
 * touching the scheduler or the skills, which is why every method returns a promise.
 */
import type { DeliveryRecord, Receipt, RunRecord, RunStatus, RunTrigger, StepRecord, Usage } from "../types.ts";

export const WAITING_FOR_CAPACITY = "waiting for a free run slot (maxConcurrentRuns)";

export type Overlap = "skip" | "queue" | "allow";

/**
 * Who holds an active row: one process, named by a random `instance` (its identity; a pid can be
 * reused, so the pid is kept only to recognise a holder that is provably gone on this host, and
 * for people reading the ledger).
 */
export interface Owner {
  pid: number;
  instance: string;
}

/**
 * Liveness of active rows (queued, running, retrying). Each carries its holder (`Owner`), a lease
 * (`lease_expires_at`, set at the claim to now + the store's lease length, `SUNDIAL_LEASE`) that the
 * holder renews every third of the lease while it works (`renewLeases`), and an `epoch`. A row whose
 * lease expired is taken from its holder (`interruptExpired`), which moves its epoch on: every write
 * of the run given the old epoch (steps, usage, deliveries, state, the final row) is then refused
 * with a `LeaseLostError`, so a holder that was frozen past its lease changes nothing when it wakes.
 * Writes given no epoch are not fenced (operator tools acting on a run they do not hold).
 */
export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
  constructor(
    readonly runId: number,
    readonly epoch: number,
  ) {
    super(
      `run #${runId} is no longer held by this process (its lease expired and epoch ${epoch} moved on: it was interrupted, or taken over); nothing more is recorded for it here`,
    );
  }
}

export function isLeaseLost(error: unknown): error is LeaseLostError {
  return error instanceof Error && error.name === "LeaseLostError";
}

/** A run's epoch, given to `setState` so the state write is fenced like the run's own writes. */
export interface Fence {
  runId: number;
  epoch: number;
}

export interface RunClaim {
  job: string;
  skill: string;
  /** Epoch ms of the slot (or of the request, for manual runs). */
  scheduledFor: number;
  trigger: RunTrigger;
  overlap: Overlap;
  dryRun?: boolean;
  resumeOf?: number | null;
}

export type ClaimResult =
  /** `epoch`: what every write of this run passes (fencing). */
  | { runId: number; status: "running"; epoch: number }
  | { runId: number; status: "queued" | "skipped"; reason: string; epoch: number }
  /** The slot already has its row (another process, or a restart, got there first). */
  | { runId: null; status: "duplicate" };

export interface RunOutcome {
  status: Extract<RunStatus, "succeeded" | "failed" | "timed_out" | "skipped" | "interrupted" | "cancelled">;
  reason?: string | null;
  error?: string | null;
}

export interface ActiveRun {
  id: number;
  status: RunStatus;
  reason: string | null;
  scheduledFor: number;
  ownerPid: number;
  ownerInstance: string;
  epoch: number;
}

/** An active row taken from its holder by `interruptExpired`. */
export interface InterruptedRun {
  id: number;
  job: string;
  ownerPid: number;
  ownerInstance: string;
}

export interface StoredStep {
  status: "succeeded";
  result: unknown;
}

/** What a step (or a run, outside any step) spent on Claude, stored with its result. */
export interface StepUsage {
  usage: Usage;
  costUsd: number | null;
}

export interface RunQuery {
  job?: string;
  status?: string;
  limit?: number;
  /** Only runs with a lower id (cursor paging, newest first). */
  before?: number;
}

/** A job's pause, kept in the ledger so it survives restarts and reloads. */
export interface JobPause {
  reason: string | null;
  pausedAt: number;
}

/** One delivery as the runner records it: keyed by its delivery step, so a redelivery updates the same row. */
export interface DeliveryWrite {
  to: string;
  url?: string | null;
  detail?: Record<string, unknown>;
  status: DeliveryRecord["status"];
  error?: string | null;
}

/**
 * Spend and budgets (see src/budget/). Spend is kept per job, UTC day (`YYYY-MM-DD`) and model in
 * its own table, apart from `runs`: pruning runs never lowers what a day or month has spent. A
 * Claude call is first *reserved* (its largest possible cost, as a row of its own), then *settled*
 * (the reservation goes, the real cost is added) or *released* (nothing was spent). Reservations
 * count as spent while they stand, so concurrent runs, in this process or another, cannot together
 * go past a cap: check and insert happen in one write transaction (one statement, or SERIALIZABLE /
 * an advisory lock, in a networked store).
 */
export interface SpendCap {
  /** `all`: every job together (the top-level budget); `job`: the job of the reservation. */
  scope: "all" | "job";
  /** `run`: the run's whole chain (this row and the rows it resumes, `resumeOf`, with their retries). */
  period: "run" | "day" | "month";
  limitUsd: number;
}

export interface SpendReservationRequest {
  runId: number;
  job: string;
  /** The call's largest possible cost in dollars. */
  amountUsd: number;
  /** Epoch ms; picks the UTC day and month the caps of period `day` and `month` are measured in. */
  now: number;
  caps: SpendCap[];
}

export type SpendReservation =
  | { reserved: true; id: number }
  /** The first cap (in the order given) that `amountUsd` would pass, and what it had spent and reserved. */
  | { reserved: false; cap: SpendCap; spentUsd: number; reservedUsd: number };

export interface SpendSettlement {
  runId: number;
  job: string;
  model: string;
  usage: Usage;
  costUsd: number;
  /** Epoch ms of the answer: the UTC day the spend is counted in. */
  now: number;
}

/** What a cap has used so far: settled spend plus open reservations. */
export interface SpendUse {
  spentUsd: number;
  reservedUsd: number;
}

export interface SpendQuery {
  /** First UTC day counted, `YYYY-MM-DD` (inclusive); all days when absent. */
  sinceDay?: string;
}

/** One row of the spend table: a job's spend on one model on one UTC day. */
export interface SpendRow {
  job: string;
  day: string;
  model: string;
  calls: number;
  usage: Usage;
  costUsd: number;
}
/** A daemon using the ledger, as `sundial nodes` and `/healthz` show it (heartbeat every third of the lease). */
export interface NodeInfo {
  /** The daemon's instance (Owner.instance). */
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  heartbeatAt: number;
  /** Hash of the canonical schedules.json and the skill files: daemons that differ run different jobs. */
  configHash: string;
}

/**
 * A message between the daemons sharing a ledger (PostgreSQL: NOTIFY). Only a fast path: what it
 * announces is in the ledger first (a cancel request, a pause), so a receiver that missed it (its
 * connection was down) finds it by reading the ledger when it reconnects.
 */
export type ControlMessage =
  /** An operator cancelled run `runId`, held by daemon `owner` (its instance). */
  | { type: "cancel"; runId: number; owner: string }
  /** A job was paused or resumed: read the pauses again. */
  | { type: "pauses" };

/** The daemons' shared channel (a store whose ledger is shared has one). */
export interface ControlChannel {
  /**
   * Listens on a connection of its own (never a pooled one), reconnecting when it is lost;
   * `onConnected` runs after each (re)connection, once listening, so the caller re-reads what a
   * message sent meanwhile would have said.
   */
  listen(
    onMessage: (message: ControlMessage) => void,
    onConnected: () => void,
    warn?: (message: string) => void,
  ): { close(): Promise<void> };
  send(message: ControlMessage): Promise<void>;
}

/** A daemon silent this long is dropped from the nodes table. */
export const NODE_SILENT_DROP_MS = 86_400_000;

export interface RunStore {
  /** True when daemons on other hosts may share this ledger (PostgreSQL): a pid seen here proves nothing about theirs. */
  readonly shared?: boolean;
  /**
   * Inserts one row per claim in a single transaction, applying each job's overlap policy against
   * the runs still active. A slot that already has a row yields `duplicate`, never a second row.
   * At most `capacity` claims start as `running`; the others that could run are `queued` with
   * reason WAITING_FOR_CAPACITY, and get their start time when they really start.
   */
  claimRuns(claims: RunClaim[], owner: Owner, now: number, capacity?: number): Promise<ClaimResult[]>;
  /** Rows for slots that will not run (outside the catch-up window, or skipped by policy). */
  recordUnrun(
    rows: { job: string; skill: string; scheduledFor: number; status: "missed" | "skipped"; reason: string }[],
    now: number,
  ): Promise<number>;
  /** Per job: the newest slot with a row, else when the job was first seen (recorded now if new). */
  jobCursors(jobs: string[], now: number): Promise<Map<string, number>>;
  /** The writes below that take an `epoch` refuse with `LeaseLostError` when the run's epoch moved on. */
  markRunning(runId: number, attempt: number, now: number, epoch?: number): Promise<void>;
  markRetrying(runId: number, attempt: number, error: string, epoch?: number): Promise<void>;
  /**
   * The final row; `usage` (spent outside any step) is added in the same transaction. Retried until
   * it lands. It moves the run's epoch on, so a write its holder makes after it is refused.
   */
  finishRun(runId: number, outcome: RunOutcome, now: number, epoch?: number, usage?: StepUsage): Promise<void>;
  /** Rows still active for a job (running, retrying or queued), oldest first. */
  activeRuns(job: string): Promise<ActiveRun[]>;
  /** Extends the lease of every active row `owner` holds to `now` + the lease length; returns how many. */
  renewLeases(owner: Owner, now: number): Promise<number>;
  /**
   * In one transaction: every active row not held by `self` whose lease expired before `now` (or
   * that has none: rows older than leases), or whose holder `isGone` says is provably gone, becomes
   * `interrupted` with `reason` and a new epoch. Returns those rows (to resume them).
   */
  interruptExpired(
    self: Owner,
    now: number,
    reason: string,
    isGone?: (owner: Owner) => boolean,
  ): Promise<InterruptedRun[]>;
  /** Interrupted rows not yet resumed (and not themselves resumes), finished after `since`. */
  resumableRuns(since: number): Promise<RunRecord[]>;

  getStep(runId: number, stepId: string): Promise<StoredStep | null>;
  startStep(runId: number, stepId: string, now: number, epoch?: number): Promise<void>;
  /** The result and the step's usage land in one transaction. A result too large to keep is done again on resume. */
  finishStep(
    runId: number,
    stepId: string,
    result: unknown,
    now: number,
    epoch?: number,
    usage?: StepUsage,
  ): Promise<void>;
  failStep(runId: number, stepId: string, error: string, now: number, epoch?: number, usage?: StepUsage): Promise<void>;
  /** Copies a run's finished steps into another (a resume), marked as reused. */
  copyFinishedSteps(fromRunId: number, toRunId: number): Promise<number>;
  addUsage(runId: number, stepId: string | null, usage: Usage, costUsd: number | null, epoch?: number): Promise<void>;
  addDelivery(runId: number, receipt: Receipt, epoch?: number): Promise<void>;
  /** Records (or updates) the delivery of one output to one target, succeeded, failed or pending. */
  recordDelivery(runId: number, stepId: string, delivery: DeliveryWrite, epoch?: number): Promise<void>;

  loadState(job: string): Promise<Map<string, unknown>>;
  /** With `fence`, refused (LeaseLostError) when that run's epoch moved on. */
  setState(job: string, key: string, value: unknown, now: number, fence?: Fence): Promise<void>;

  lastSuccessAt(job: string): Promise<number | null>;
  /** True when no run of the job's current failure streak has been announced yet. */
  shouldAlert(job: string, runId: number): Promise<boolean>;
  markAlerted(runId: number, now: number): Promise<void>;
  /** The status of the job's last finished run before `runId`, ignoring skipped and missed rows. */
  previousOutcome(job: string, runId: number): Promise<RunStatus | null>;

  listRuns(query: RunQuery): Promise<RunRecord[]>;
  getRun(runId: number): Promise<(RunRecord & { steps: StepRecord[] }) | null>;
  /** The row of a scheduled slot, if it has one. */
  slotRun(job: string, scheduledFor: number): Promise<RunRecord | null>;
  /**
   * Takes a finished run back to run it again on its own row (`redeliver`): `owner` holds it under a
   * new lease and epoch, which is returned (the run's writes carry it).
   */
  reclaimRun(runId: number, owner: Owner, now: number): Promise<number>;
  /** Ends a run that is still `queued` as `cancelled`; false when it is no longer queued. */
  cancelQueued(runId: number, reason: string, now: number): Promise<boolean>;
  /**
   * Shared ledgers: records an operator's cancel on an active run held by another daemon and tells
   * that daemon (`ControlChannel`); returns the holder's instance, or null when the run is not active.
   */
  requestCancel?(runId: number, reason: string, now: number): Promise<string | null>;
  /** Shared ledgers: the active runs `owner` holds whose cancel was requested, with the reason. */
  cancelRequests?(owner: Owner): Promise<{ runId: number; reason: string }[]>;
  /** Shared ledgers: the channel between the daemons. */
  readonly controlChannel?: ControlChannel;

  pauses(): Promise<Map<string, JobPause>>;
  /** Idempotent: a new reason replaces the old one (the pause keeps its first time). */
  setPause(job: string, reason: string | null, now: number): Promise<void>;
  /** False when the job was not paused. */
  clearPause(job: string): Promise<boolean>;

  /** Deletes finished runs older than `before`; returns how many. */
  prune(before: number): Promise<number>;
  /**
   * Deletes the state of jobs not in `configuredJobs` that was not written since `before`, and feed
   * caches not refreshed since `before`; returns how many entries.
   */
  pruneState(configuredJobs: string[], before: number): Promise<number>;
  /**
   * Reserves `amountUsd` for a Claude call if, for every cap, settled spend plus open reservations
   * plus `amountUsd` stays within `limitUsd`; else reserves nothing and names the first cap that
   * would be passed. Check and insert are atomic across processes.
   */
  reserveSpend(request: SpendReservationRequest): Promise<SpendReservation>;
  /** In one transaction: deletes reservation `id` (if still there) and adds the real cost to the job's day/model row and to the run's spend. */
  settleSpend(id: number, settlement: SpendSettlement): Promise<void>;
  /** Deletes reservation `id` (a call that was not answered); nothing is spent. */
  releaseSpend(id: number): Promise<void>;
  /** Deletes every reservation of a run (it ended); returns how many. */
  releaseRunReservations(runId: number): Promise<number>;
  /** Deletes reservations of runs no longer active (queued/running/retrying), e.g. after a crash; returns how many. */
  releaseStaleReservations(): Promise<number>;
  /** What `cap` has used for `job` at `now` (settled plus reserved); `runId` is needed for period `run`. */
  spendUse(cap: SpendCap, job: string, now: number, runId?: number): Promise<SpendUse>;
  /** Spend rows, oldest day first (read-only commands use it; also for `/metrics`). */
  listSpend(query: SpendQuery): Promise<SpendRow[]>;
  /**
   * Records that the budget alert `key` (scope, budget, period and level, e.g.
   * `job:daily-blog|perDay|2026-12-03|100`) was sent; true the first time only, so each alert is
   * sent once, also across processes and restarts.
   */
  claimBudgetAlert(key: string, now: number): Promise<boolean>;
  /** True when `claimBudgetAlert(key)` was done. */
  hasBudgetAlert(key: string): Promise<boolean>;
  /** Records (or refreshes) a daemon's row; drops the rows of daemons silent for NODE_SILENT_DROP_MS. */
  heartbeat(node: NodeInfo): Promise<void>;
  /** The daemons not silent for NODE_SILENT_DROP_MS, oldest first. */
  listNodes(now: number): Promise<NodeInfo[]>;
  /** A daemon that stops cleanly removes its row. */
  removeNode(id: string): Promise<void>;
  /** A cheap write, for the health check. */
  ping(now: number): Promise<void>;
  close(): void;
}

/** The spend and budget part of the store, which each ledger implements in its own `*-spend.ts`. */
export type SpendMethods = Pick<
  RunStore,
  | "reserveSpend"
  | "settleSpend"
  | "releaseSpend"
  | "releaseRunReservations"
  | "releaseStaleReservations"
  | "spendUse"
  | "listSpend"
  | "claimBudgetAlert"
  | "hasBudgetAlert"
>;
