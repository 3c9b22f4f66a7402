/**
 * @module dashboard/data — what the overview needs beyond the jobs: runs of the last 24 hours,
 * failure streaks and cost per day per job, read newest first through `Controls.listRuns` (cursor
 * pages, never OFFSET) until the window is covered, or from the `spend` source when one is wired.
 */
import type { Controls } from "../../control/types.ts";
import type { RunStore } from "../../ledger/store.ts";
import type { RunRecord } from "../../types.ts";
import type { DailyCost } from "./chart.ts";

export type SpendSource = (since: Date) => Promise<DailyCost[]>;

/**
 * Cost per UTC day per job from the ledger's spend table (every model summed): what budgets count,
 * kept apart from run retention, and read without scanning runs.
 */
export function spendFromLedger(store: Pick<RunStore, "listSpend">): SpendSource {
  return async (since) => {
    const byKey = new Map<string, DailyCost>();
    for (const row of await store.listSpend({ sinceDay: since.toISOString().slice(0, 10) })) {
      const key = `${row.day}\u0000${row.job}`;
      const cost = byKey.get(key) ?? { day: row.day, job: row.job, costUsd: 0 };
      cost.costUsd += row.costUsd;
      byKey.set(key, cost);
    }
    return [...byKey.values()];
  };
}

const FAILED = new Set(["failed", "timed_out"]);
/** Rows that say nothing about health: they neither break nor extend a failure streak. */
const NEUTRAL = new Set(["skipped", "missed", "queued", "running", "retrying"]);

export interface RecentRuns {
  /** Runs scheduled at or after `since`, newest first. */
  runs: RunRecord[];
  /** False when the scan stopped at `maxRuns` before reaching `since`. */
  complete: boolean;
}

export async function recentRuns(controls: Controls, since: number, maxRuns = 5_000): Promise<RecentRuns> {
  const runs: RunRecord[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await controls.listRuns({ limit: 500, ...(before === undefined ? {} : { before }) });
    for (const run of page.runs) {
      if (Date.parse(run.scheduledFor) < since) return { runs, complete: true };
      runs.push(run);
    }
    if (page.next === null) return { runs, complete: true };
    if (runs.length >= maxRuns) return { runs, complete: false };
    before = page.next;
  }
}

/** Consecutive failed runs at the head of each job's history (newest first in `runs`). */
export function failureStreaks(runs: RunRecord[]): Map<string, number> {
  const streaks = new Map<string, number>();
  const settled = new Set<string>();
  for (const run of runs) {
    if (settled.has(run.job) || NEUTRAL.has(run.status) || run.dryRun) continue;
    if (FAILED.has(run.status)) streaks.set(run.job, (streaks.get(run.job) ?? 0) + 1);
    else settled.add(run.job);
  }
  return streaks;
}

export function dailyCosts(runs: RunRecord[]): DailyCost[] {
  const byKey = new Map<string, DailyCost>();
  for (const run of runs) {
    if (!run.costUsd) continue;
    const day = (run.startedAt ?? run.scheduledFor).slice(0, 10);
    const key = `${day}\u0000${run.job}`;
    const row = byKey.get(key) ?? { day, job: run.job, costUsd: 0 };
    row.costUsd += run.costUsd;
    byKey.set(key, row);
  }
  return [...byKey.values()];
}

export function isFailure(run: RunRecord): boolean {
  return FAILED.has(run.status);
}
