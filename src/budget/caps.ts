/**
 * @module budget/caps — a job's caps from its own budget and the top-level one (both apply), how
 * each is named in errors, skip reasons and alerts, and the keys that make each alert a one-off.
 */
import type { Budget } from "../config/schema.ts";
import type { SpendCap } from "../ledger/store.ts";
import { periodKey } from "./periods.ts";

const NAMES = { run: "perRun", day: "perDay", month: "perMonth" } as const;

export function capsOf(jobBudget: Budget | undefined, topBudget: Budget | undefined): SpendCap[] {
  const caps: SpendCap[] = [];
  for (const [scope, budget] of [
    ["job", jobBudget],
    ["all", topBudget],
  ] as const) {
    if (!budget) continue;
    if (budget.perRun !== undefined) caps.push({ scope, period: "run", limitUsd: budget.perRun });
    if (budget.perDay !== undefined) caps.push({ scope, period: "day", limitUsd: budget.perDay });
    if (budget.perMonth !== undefined) caps.push({ scope, period: "month", limitUsd: budget.perMonth });
  }
  return caps;
}

/** `perDay` (the job's own) or `top-level perDay` (all jobs together). */
export function capName(cap: SpendCap): string {
  return cap.scope === "all" ? `top-level ${NAMES[cap.period]}` : NAMES[cap.period];
}

/** `perDay of job daily-blog` / `top-level perDay (all jobs)`: for messages that stand alone. */
export function capTitle(cap: SpendCap, job: string): string {
  return cap.scope === "all" ? `${capName(cap)} (all jobs)` : `${capName(cap)} of job ${job}`;
}

/** The key of a day or month cap's alert at `level` (80 or 100) in the period of `now`. */
export function alertKey(cap: SpendCap, job: string, now: number, level: 80 | 100): string {
  if (cap.period === "run") throw new TypeError("perRun caps have no alerts");
  return `${cap.scope === "all" ? "all" : `job:${job}`}|${NAMES[cap.period]}|${periodKey(cap.period, now)}|${level}`;
}

export function dollars(amount: number): string {
  return `$${amount.toFixed(amount !== 0 && Math.abs(amount) < 1 ? 4 : 2)}`;
}
