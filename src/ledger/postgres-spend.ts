/**
 * @module postgres-spend — the spend and budget methods of the PostgreSQL store (see `SpendCap` in
 * store.ts). A reservation is checked and inserted under one transaction-scoped advisory lock, so
 * daemons on several machines cannot together reserve the last dollars of a cap.
 */
import type pg from "pg";
import type { SpendCap, SpendMethods, SpendRow, SpendUse } from "./store.ts";
import { utcDay, utcMonthRange } from "../budget/periods.ts";

type Db = pg.Pool | pg.PoolClient;

/** One lock for every reservation: a cap may span all jobs, and reservations are short. */
const SPEND_LOCK = 0x5d1a1b;
const CHAIN = `WITH RECURSIVE chain(id) AS (SELECT $1::bigint UNION SELECT r.resume_of FROM runs r JOIN chain ON r.id = chain.id WHERE r.resume_of IS NOT NULL)`;

export function postgresSpendMethods(
  pool: pg.Pool,
  tx: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
): SpendMethods {
  const value = async (db: Db, sql: string, args: unknown[]) =>
    Number((await db.query<{ v: string | number }>(sql, args)).rows[0]?.v ?? 0);

  async function use(db: Db, cap: SpendCap, job: string, now: number, runId?: number): Promise<SpendUse> {
    if (cap.period === "run") {
      if (runId === undefined) throw new TypeError("a perRun cap needs the run id");
      return {
        spentUsd: await value(
          db,
          `${CHAIN} SELECT COALESCE(SUM(cost_usd), 0) AS v FROM run_spend WHERE run_id IN (SELECT id FROM chain)`,
          [runId],
        ),
        reservedUsd: await value(
          db,
          `${CHAIN} SELECT COALESCE(SUM(amount_usd), 0) AS v FROM spend_reservations WHERE run_id IN (SELECT id FROM chain)`,
          [runId],
        ),
      };
    }
    const range = cap.period === "day" ? { from: utcDay(now), to: utcDay(now + 86_400_000) } : utcMonthRange(now);
    const spentUsd =
      cap.scope === "all"
        ? await value(db, `SELECT COALESCE(SUM(cost_usd), 0) AS v FROM spend WHERE day >= $1 AND day < $2`, [
            range.from,
            range.to,
          ])
        : await value(
            db,
            `SELECT COALESCE(SUM(cost_usd), 0) AS v FROM spend WHERE job = $1 AND day >= $2 AND day < $3`,
            [job, range.from, range.to],
          );
    const reservedUsd =
      cap.scope === "all"
        ? await value(db, `SELECT COALESCE(SUM(amount_usd), 0) AS v FROM spend_reservations`, [])
        : await value(db, `SELECT COALESCE(SUM(amount_usd), 0) AS v FROM spend_reservations WHERE job = $1`, [job]);
    return { spentUsd, reservedUsd };
  }

  return {
    async reserveSpend(request) {
      return tx(async (client) => {
        await client.query("SELECT pg_advisory_xact_lock($1)", [SPEND_LOCK]);
        for (const cap of request.caps) {
          const found = await use(client, cap, request.job, request.now, request.runId);
          // A hair of tolerance for float sums: a call that fits exactly is not refused by rounding.
          if (found.spentUsd + found.reservedUsd + request.amountUsd > cap.limitUsd + 1e-9)
            return { reserved: false as const, cap, ...found };
        }
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO spend_reservations (run_id, job, amount_usd, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
          [request.runId, request.job, request.amountUsd, request.now],
        );
        return { reserved: true as const, id: Number(rows[0]?.id) };
      });
    },
    async settleSpend(id, s) {
      await tx(async (client) => {
        // Each reservation is settled once: a settle tried again after its answer was lost adds nothing
        // twice. One whose reservation is gone (its run ended first) was still paid for: it counts. A
        // call without a reservation (no cap, id -1) has no key to recognise a repeat by.
        if (id >= 0) {
          const first = await client.query(
            `INSERT INTO spend_settled (id, run_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
            [id, s.runId],
          );
          if (!first.rowCount) return;
          await client.query(`DELETE FROM spend_reservations WHERE id = $1`, [id]);
        }
        await client.query(
          `INSERT INTO spend (job, day, model, calls, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8)
           ON CONFLICT (job, day, model) DO UPDATE SET calls = spend.calls + 1, input_tokens = spend.input_tokens + excluded.input_tokens,
           output_tokens = spend.output_tokens + excluded.output_tokens, cache_write_tokens = spend.cache_write_tokens + excluded.cache_write_tokens,
           cache_read_tokens = spend.cache_read_tokens + excluded.cache_read_tokens, cost_usd = spend.cost_usd + excluded.cost_usd`,
          [
            s.job,
            utcDay(s.now),
            s.model,
            s.usage.inputTokens,
            s.usage.outputTokens,
            s.usage.cacheWriteTokens,
            s.usage.cacheReadTokens,
            s.costUsd,
          ],
        );
        await client.query(
          `INSERT INTO run_spend (run_id, cost_usd) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET cost_usd = run_spend.cost_usd + excluded.cost_usd`,
          [s.runId, s.costUsd],
        );
      });
    },
    async releaseSpend(id) {
      await pool.query(`DELETE FROM spend_reservations WHERE id = $1`, [id]);
    },
    async releaseRunReservations(runId) {
      return (await pool.query(`DELETE FROM spend_reservations WHERE run_id = $1`, [runId])).rowCount ?? 0;
    },
    async releaseStaleReservations() {
      return (
        (
          await pool.query(
            `DELETE FROM spend_reservations WHERE run_id NOT IN (SELECT id FROM runs WHERE status IN ('queued','running','retrying'))`,
          )
        ).rowCount ?? 0
      );
    },
    async spendUse(cap, job, now, runId) {
      return use(pool, cap, job, now, runId);
    },
    async listSpend(query) {
      const { rows } = await pool.query<Record<string, string | number>>(
        `SELECT job, day, model, calls, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd FROM spend WHERE day >= $1 ORDER BY day, job, model`,
        [query.sinceDay ?? ""],
      );
      return rows.map((row): SpendRow => ({
        job: String(row.job),
        day: String(row.day),
        model: String(row.model),
        calls: Number(row.calls),
        usage: {
          inputTokens: Number(row.input_tokens),
          outputTokens: Number(row.output_tokens),
          cacheWriteTokens: Number(row.cache_write_tokens),
          cacheReadTokens: Number(row.cache_read_tokens),
        },
        costUsd: Number(row.cost_usd),
      }));
    },
    async claimBudgetAlert(key, now) {
      return (
        ((
          await pool.query(`INSERT INTO budget_alerts (key, sent_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
            key,
            now,
          ])
        ).rowCount ?? 0) > 0
      );
    },
    async hasBudgetAlert(key) {
      return ((await pool.query(`SELECT 1 FROM budget_alerts WHERE key = $1`, [key])).rowCount ?? 0) > 0;
    },
  };
}
