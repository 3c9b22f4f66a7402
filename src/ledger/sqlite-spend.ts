/**
 * @module sqlite-spend — the spend and budget methods of the SQLite store (see `SpendCap` in
 * store.ts): reservations checked and inserted in one IMMEDIATE transaction, so two processes
 * cannot both reserve the last dollars of a cap.
 */
import type Database from "better-sqlite3";
import type { SpendCap, SpendMethods, SpendRow, SpendUse } from "./store.ts";
import { utcDay, utcMonthRange } from "../budget/periods.ts";

export function sqliteSpendMethods(db: Database.Database): SpendMethods {
  // The run and the runs it resumes (a resume of a resume…): perRun covers the slot's whole chain.
  const CHAIN = `WITH RECURSIVE chain(id) AS (SELECT ? UNION SELECT r.resume_of FROM runs r JOIN chain ON r.id = chain.id WHERE r.resume_of IS NOT NULL)`;
  // Prepared on first use: a read-only ledger opened before migration 3 has no spend tables, and
  // `runs`/`show` on it must not fail for that.
  const lazy = (sql: string) => {
    let statement: Database.Statement | undefined;
    return () => (statement ??= db.prepare(sql));
  };
  const q = {
    runSpent: lazy(
      `${CHAIN} SELECT COALESCE(SUM(cost_usd), 0) AS v FROM run_spend WHERE run_id IN (SELECT id FROM chain)`,
    ),
    runReserved: lazy(
      `${CHAIN} SELECT COALESCE(SUM(amount_usd), 0) AS v FROM spend_reservations WHERE run_id IN (SELECT id FROM chain)`,
    ),
    jobSpent: lazy(`SELECT COALESCE(SUM(cost_usd), 0) AS v FROM spend WHERE job = ? AND day >= ? AND day < ?`),
    allSpent: lazy(`SELECT COALESCE(SUM(cost_usd), 0) AS v FROM spend WHERE day >= ? AND day < ?`),
    jobReserved: lazy(`SELECT COALESCE(SUM(amount_usd), 0) AS v FROM spend_reservations WHERE job = ?`),
    allReserved: lazy(`SELECT COALESCE(SUM(amount_usd), 0) AS v FROM spend_reservations`),
    reserve: lazy(`INSERT INTO spend_reservations (run_id, job, amount_usd, created_at) VALUES (?, ?, ?, ?)`),
    release: lazy(`DELETE FROM spend_reservations WHERE id = ?`),
    releaseRun: lazy(`DELETE FROM spend_reservations WHERE run_id = ?`),
    releaseStale: lazy(
      `DELETE FROM spend_reservations WHERE run_id NOT IN (SELECT id FROM runs WHERE status IN ('queued','running','retrying'))`,
    ),
    addSpend:
      lazy(`INSERT INTO spend (job, day, model, calls, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd)
      VALUES (@job, @day, @model, 1, @inputTokens, @outputTokens, @cacheWriteTokens, @cacheReadTokens, @costUsd)
      ON CONFLICT (job, day, model) DO UPDATE SET calls = calls + 1, input_tokens = input_tokens + excluded.input_tokens,
      output_tokens = output_tokens + excluded.output_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
      cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, cost_usd = cost_usd + excluded.cost_usd`),
    addRunSpend: lazy(
      `INSERT INTO run_spend (run_id, cost_usd) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET cost_usd = cost_usd + excluded.cost_usd`,
    ),
    list: lazy(
      `SELECT job, day, model, calls, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd FROM spend WHERE day >= ? ORDER BY day, job, model`,
    ),
    claimAlert: lazy(`INSERT OR IGNORE INTO budget_alerts (key, sent_at) VALUES (?, ?)`),
    hasAlert: lazy(`SELECT 1 FROM budget_alerts WHERE key = ?`),
  };
  const value = (statement: () => Database.Statement, ...args: unknown[]) =>
    (statement().get(...args) as { v: number }).v;

  function use(cap: SpendCap, job: string, now: number, runId?: number): SpendUse {
    if (cap.period === "run") {
      if (runId === undefined) throw new TypeError("a perRun cap needs the run id");
      return { spentUsd: value(q.runSpent, runId), reservedUsd: value(q.runReserved, runId) };
    }
    const range = cap.period === "day" ? { from: utcDay(now), to: utcDay(now + 86_400_000) } : utcMonthRange(now);
    const spentUsd =
      cap.scope === "all" ? value(q.allSpent, range.from, range.to) : value(q.jobSpent, job, range.from, range.to);
    return { spentUsd, reservedUsd: cap.scope === "all" ? value(q.allReserved) : value(q.jobReserved, job) };
  }

  const reserve = db.transaction((request: Parameters<SpendMethods["reserveSpend"]>[0]) => {
    for (const cap of request.caps) {
      const found = use(cap, request.job, request.now, request.runId);
      // A hair of tolerance for float sums: a call that fits exactly is not refused by rounding.
      if (found.spentUsd + found.reservedUsd + request.amountUsd > cap.limitUsd + 1e-9)
        return { reserved: false as const, cap, ...found };
    }
    const id = Number(q.reserve().run(request.runId, request.job, request.amountUsd, request.now).lastInsertRowid);
    return { reserved: true as const, id };
  });

  const settle = db.transaction((id: number, s: Parameters<SpendMethods["settleSpend"]>[1]) => {
    q.release().run(id);
    q.addSpend().run({ job: s.job, day: utcDay(s.now), model: s.model, ...s.usage, costUsd: s.costUsd });
    q.addRunSpend().run(s.runId, s.costUsd);
  });

  return {
    async reserveSpend(request) {
      return reserve.immediate(request);
    },
    async settleSpend(id, settlement) {
      settle.immediate(id, settlement);
    },
    async releaseSpend(id) {
      q.release().run(id);
    },
    async releaseRunReservations(runId) {
      return q.releaseRun().run(runId).changes;
    },
    async releaseStaleReservations() {
      return q.releaseStale().run().changes;
    },
    async spendUse(cap, job, now, runId) {
      return use(cap, job, now, runId);
    },
    async listSpend(query) {
      const rows = q.list().all(query.sinceDay ?? "") as Record<string, number | string>[];
      return rows.map((row): SpendRow => ({
        job: row.job as string,
        day: row.day as string,
        model: row.model as string,
        calls: row.calls as number,
        usage: {
          inputTokens: row.input_tokens as number,
          outputTokens: row.output_tokens as number,
          cacheWriteTokens: row.cache_write_tokens as number,
          cacheReadTokens: row.cache_read_tokens as number,
        },
        costUsd: row.cost_usd as number,
      }));
    },
    async claimBudgetAlert(key, now) {
      return q.claimAlert().run(key, now).changes > 0;
    },
    async hasBudgetAlert(key) {
      return q.hasAlert().get(key) !== undefined;
    },
  };
}
