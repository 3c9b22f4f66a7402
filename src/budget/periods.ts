/** @module budget/periods — UTC days and months as the spend table keys them, and when each resets. */

/** `YYYY-MM-DD` of `ms` in UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first and the last-plus-one UTC day keys of the month of `ms` (`[from, to)`). */
export function utcMonthRange(ms: number): { from: string; to: string } {
  const date = new Date(ms);
  const from = utcDay(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
  const to = utcDay(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1));
  return { from, to };
}

/** When a day or month budget measured at `ms` starts again (ISO 8601, UTC). */
export function resetsAt(period: "day" | "month", ms: number): string {
  const date = new Date(ms);
  const next =
    period === "day"
      ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
      : Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return new Date(next).toISOString();
}

/** The key of the period `ms` falls in: `2026-12-03` for a day, `2026-12` for a month. */
export function periodKey(period: "day" | "month", ms: number): string {
  return period === "day" ? utcDay(ms) : utcDay(ms).slice(0, 7);
}
