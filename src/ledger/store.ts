/**
 * @module store — the ledger's port: everything the scheduler, the runner and the CLI ask of the
 * run ledger. SQLite implements it today; a networked store can implement it later without
 * touching the scheduler or the skills, which is why every method returns a promise.
 */
import type { DeliveryRecord, Receipt, RunRecord, RunStatus, RunTrigger, StepRecord, Usage } from "../types.ts";

export const WAITING_FOR_CAPACITY = "waiting for a free run slot (maxConcurrentRuns)";

export type Overlap = "skip" | "queue" | "allow";

/** Who owns a running row: a process, so a row left by a dead one can be told from a live one. */
export interface Owner {
  pid: number;
  instance: string;
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
  | { runId: number; status: "running" }
  | { runId: number; status: "queued" | "skipped"; reason: string }
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
}

export interface StoredStep {
  status: "succeeded";
  result: unknown;
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

export interface RunStore {
  /**
   * Inserts one row per claim in a single transaction, applying each job's overlap policy against
   * the runs still active. A slot that already has a row yields `duplicate`, never a second row.
   * At most `capacity` claims start as `running`; the others that could run are `queued` with
   * reason WAITING_FOR_CAPACITY, and get their start time when they really start.
   */
  claimRuns(claims: RunClaim[], owner: Owner, now: number, capacity?: number): Promise<ClaimResult[]>;
  /** Rows for slots that will not run (outside the catch-up window, or skipped by policy). */
  recordUnrun(rows: { job: string; skill: string; scheduledFor: number; status: "missed" | "skipped"; reason: string }[], now: number): Promise<number>;
  /** Per job: the newest slot with a row, else when the job was first seen (recorded now if new). */
  jobCursors(jobs: string[], now: number): Promise<Map<string, number>>;
  markRunning(runId: number, attempt: number, now: number): Promise<void>;
  markRetrying(runId: number, attempt: number, error: string): Promise<void>;
  finishRun(runId: number, outcome: RunOutcome, now: number): Promise<void>;
  /** Rows still active for a job (running, retrying or queued), oldest first. */
  activeRuns(job: string): Promise<ActiveRun[]>;
  /** Active rows whose owner process is gone; `isAlive` decides. */
  orphanedRuns(isAlive: (owner: Owner) => boolean): Promise<{ id: number; job: string }[]>;
  /** Interrupted rows not yet resumed (and not themselves resumes), finished after `since`. */
  resumableRuns(since: number): Promise<RunRecord[]>;

  getStep(runId: number, stepId: string): Promise<StoredStep | null>;
  startStep(runId: number, stepId: string, now: number): Promise<void>;
  finishStep(runId: number, stepId: string, result: unknown, now: number): Promise<void>;
  failStep(runId: number, stepId: string, error: string, now: number): Promise<void>;
  /** Copies a run's finished steps into another (a resume), marked as reused. */
  copyFinishedSteps(fromRunId: number, toRunId: number): Promise<number>;
  addUsage(runId: number, stepId: string | null, usage: Usage, costUsd: number | null): Promise<void>;
  addDelivery(runId: number, receipt: Receipt): Promise<void>;
  /** Records (or updates) the delivery of one output to one target, succeeded, failed or pending. */
  recordDelivery(runId: number, stepId: string, delivery: DeliveryWrite): Promise<void>;

  loadState(job: string): Promise<Map<string, unknown>>;
  setState(job: string, key: string, value: unknown, now: number): Promise<void>;

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
  /** Ends a run that is still `queued` as `cancelled`; false when it is no longer queued. */
  cancelQueued(runId: number, reason: string, now: number): Promise<boolean>;

  pauses(): Promise<Map<string, JobPause>>;
  /** Idempotent: a new reason replaces the old one (the pause keeps its first time). */
  setPause(job: string, reason: string | null, now: number): Promise<void>;
  /** False when the job was not paused. */
  clearPause(job: string): Promise<boolean>;

  /** Deletes finished runs older than `before`; returns how many. */
  prune(before: number): Promise<number>;
  /** A cheap write, for the health check. */
  ping(now: number): Promise<void>;
  close(): void;
}
