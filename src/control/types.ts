/**
 * @module control/types — the one set of operator controls and views that the HTTP API, the
 * dashboard, the CLI controls and Discord commands all call, so the surfaces can never disagree.
 * The daemon implements `Controls` (src/control/controls.ts); surfaces only depend on this file.
 */
import type { RunRecord, StepRecord } from "../types.ts";

/** A job as `list --json` shows it, plus its pause and its last run. */
export interface JobView {
  id: string;
  skill: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  disabledReason: string | null;
  nextRuns: string[];
  paused: boolean;
  pausedReason: string | null;
  lastRun: RunRecord | null;
}

/** A run as `show --json` shows it, with its steps. */
export type RunDetail = RunRecord & { steps: StepRecord[] };

export interface RunPage {
  runs: RunRecord[];
  /** The id to pass as `before` for the next (older) page, or null at the end. */
  next: number | null;
}

export interface RunsQuery {
  job?: string;
  status?: string;
  /** 1 to 500; default 50. */
  limit?: number;
  /** Only runs with an id lower than this (cursor paging, newest first). */
  before?: number;
}

export interface TriggerRequest {
  dryRun?: boolean;
  params?: Record<string, unknown>;
}

/** Why a control could not be done; surfaces map `code` to a status (HTTP 400/404/409…). */
export type ControlErrorCode = "invalid" | "not_found" | "overlap" | "finished" | "not_held" | "nothing_to_redeliver";

export class ControlError extends Error {
  readonly code: ControlErrorCode;
  constructor(code: ControlErrorCode, message: string) {
    super(message);
    this.name = "ControlError";
    this.code = code;
  }
}

/** One event per run state change and per pause (SSE `event: run` / `event: job`). */
export type ControlEvent = { type: "run"; run: RunRecord } | { type: "job"; job: JobView };

export interface Controls {
  listJobs(): Promise<JobView[]>;
  getJob(id: string): Promise<JobView | null>;
  listRuns(query: RunsQuery): Promise<RunPage>;
  getRun(id: number): Promise<RunDetail | null>;
  /** A manual run now, honouring the job's overlap policy (ControlError "overlap" when skipped). */
  trigger(job: string, request: TriggerRequest): Promise<RunRecord>;
  /** Idempotent; a new reason replaces the old. Stops new fires only. */
  pause(job: string, reason?: string): Promise<JobView>;
  resume(job: string): Promise<JobView>;
  /** Queued/retry-waiting runs end `cancelled` at once; a running one through its signal. */
  cancel(runId: number): Promise<void>;
  /** Delivers again only the failed targets of the run ("nothing_to_redeliver" when none). */
  redeliver(runId: number): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(listener: (event: ControlEvent) => void): () => void;
}
