/**
 * @module rows — a `runs` row as both ledgers read it (SQLite and PostgreSQL share the columns):
 * the run record the CLI, API and dashboard show, its usage, and its delivery summary.
 */
import type { DeliveryRecord, DeliverySummary, RunRecord, RunStatus, Usage } from "../types.ts";

export type Row = Record<string, unknown>;

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** "Work succeeded, a delivery failed" made visible: none, all, some or no deliveries made. */
export function summarize(deliveries: DeliveryRecord[]): DeliverySummary {
  if (!deliveries.length) return "none";
  const made = deliveries.filter((d) => d.status === "succeeded").length;
  return made === deliveries.length ? "delivered" : made === 0 ? "failed" : "partial";
}

export function usageOf(row: Row): Usage {
  return {
    inputTokens: row.input_tokens as number,
    outputTokens: row.output_tokens as number,
    cacheWriteTokens: row.cache_write_tokens as number,
    cacheReadTokens: row.cache_read_tokens as number,
  };
}

/** A `runs` row and its deliveries as a record (`dry_run` is 1 in SQLite, true in PostgreSQL). */
export function runRecord(row: Row, deliveries: DeliveryRecord[]): RunRecord {
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
    dryRun: row.dry_run === 1 || row.dry_run === true,
  };
}
