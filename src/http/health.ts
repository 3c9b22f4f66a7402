/**
 * @module health — the body of `GET /healthz`: `{"status": "ok" | "degraded" | "down", "checks"}`.
 * `down` when the scheduler loop or the ledger is not working; `degraded` when Sundial runs but
 * something needs a person (a job disabled by a problem, an invalid or rejected configuration, an
 * overdue schedule). Each check says its own status and what it saw.
 */
import { formatProblem, type Problem } from "../errors.ts";
import { disabledByProblem, type Configuration } from "../config/load.ts";

export type CheckStatus = "ok" | "degraded" | "down" | "not configured";
export type Check = { status: CheckStatus } & Record<string, unknown>;
export type HealthStatus = "ok" | "degraded" | "down";
export interface HealthBody {
  status: HealthStatus;
  checks: Record<"scheduler" | "ledger" | "config" | "jobs" | "overdue" | "discord" | "nodes", Check>;
}

export interface HealthSources {
  scheduler(): { alive: boolean; running: number };
  /** Resolves when the ledger works (see `cachedProbe`: not a write per request). */
  ledger(): Promise<void>;
  configuration(): Configuration;
  /** The last configuration change that was rejected (the one before it keeps running), if any since. */
  rejected(): { at: number; problems: Problem[] } | null;
  /** Enabled jobs whose next fire is past due by more than the scheduler's longest sleep. */
  overdue(now: number): { job: string; dueAt: number }[];
  /** Fires that came more than a minute late, noticed recently (handled, but someone should look). */
  late?(now: number): { job: string; dueAt: number; noticedAt: number; handled: string }[];
  node: { pid: number; instance: string; hostname: string; startedAt: number };
  discord?(): Check;
  /** The daemons sharing the ledger (src/daemon/nodes.ts); else this one alone. */
  nodes?(): Check;
  now(): number;
}

function configCheck(sources: HealthSources): Check {
  const configuration = sources.configuration();
  const rejected = sources.rejected();
  if (!configuration.fileValid)
    return {
      status: "degraded",
      message: "schedules.json is not valid; no job runs until it is fixed",
      problems: configuration.problems.map(formatProblem),
    };
  if (rejected) {
    return {
      status: "degraded",
      message: `a change to schedules.json or a skill was rejected at ${new Date(rejected.at).toISOString()}; the configuration loaded before keeps running`,
      problems: rejected.problems.map(formatProblem),
    };
  }
  const skillProblems = configuration.problems.filter((problem) => problem.skill !== undefined);
  if (skillProblems.length)
    return { status: "degraded", message: "a skill file failed to load", problems: skillProblems.map(formatProblem) };
  return { status: "ok" };
}

function jobsCheck(configuration: Configuration): Check {
  const disabled = configuration.jobs
    .filter(disabledByProblem)
    .map((job) => ({ id: job.id, reason: job.disabledReason }));
  const enabled = configuration.jobs.filter((job) => job.enabled).length;
  return { status: disabled.length ? "degraded" : "ok", enabled, disabled };
}

export async function healthOf(sources: HealthSources): Promise<HealthBody> {
  const now = sources.now();
  const scheduler = sources.scheduler();
  let ledger: Check = { status: "ok" };
  try {
    await sources.ledger();
  } catch (error) {
    ledger = {
      status: "down",
      message: `the ledger is not working: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const overdue = sources.overdue(now).map((o) => ({ job: o.job, dueAt: new Date(o.dueAt).toISOString() }));
  const late = (sources.late?.(now) ?? []).map((l) => ({
    job: l.job,
    dueAt: new Date(l.dueAt).toISOString(),
    noticedAt: new Date(l.noticedAt).toISOString(),
    handled: l.handled,
  }));
  const checks: HealthBody["checks"] = {
    scheduler: scheduler.alive
      ? { status: "ok", running: scheduler.running }
      : { status: "down", message: "the scheduler loop is stopped", running: scheduler.running },
    ledger,
    config: configCheck(sources),
    jobs: jobsCheck(sources.configuration()),
    overdue: {
      status: overdue.length || late.length ? "degraded" : "ok",
      jobs: overdue,
      late,
      ...(overdue.length || late.length
        ? {
            message:
              "a schedule is or was more than a minute overdue (a stuck timer, a clock step, a suspended machine, a blocked event loop); see `late` for what became of each",
          }
        : {}),
    },
    discord: sources.discord?.() ?? { status: "not configured" },
    nodes: sources.nodes?.() ?? {
      status: "ok",
      nodes: [{ ...sources.node, startedAt: new Date(sources.node.startedAt).toISOString() }],
    },
  };
  const statuses = Object.values(checks).map((check) => check.status);
  const status: HealthStatus = statuses.includes("down") ? "down" : statuses.includes("degraded") ? "degraded" : "ok";
  return { status, checks };
}

/**
 * A probe that runs `probe` (a ledger write) at most once per `okMs` while it succeeds, and again
 * after `failedMs` when it failed: `/healthz` polled every second must not write every second.
 */
export function cachedProbe(
  probe: () => Promise<void>,
  now: () => number,
  okMs = 30_000,
  failedMs = 2_000,
): () => Promise<void> {
  let last: { at: number; result: Promise<void>; ok: boolean } | null = null;
  return () => {
    const at = now();
    if (last && at - last.at < (last.ok ? okMs : failedMs)) return last.result;
    const entry = { at, ok: true, result: probe() };
    entry.result.catch(() => (entry.ok = false));
    last = entry;
    return entry.result;
  };
}
