/**
 * @module bench/fill-ledger — a million plausible rows for the ledger benchmark, generated inside
 * SQLite (a recursive CTE, no per-row round trip): 100 jobs of two skills, slots a minute apart,
 * 90% succeeded (two steps each, usage and cost), 5% skipped, 3% failed (an error and a failed
 * step), 2% missed, and a delivery for one succeeded run in ten. For speed the runs table's
 * indexes are dropped during the insert and recreated from their own SQL afterwards, and the
 * fill writes without a WAL; the file ends with exactly the schema `openSqliteStore` made, in WAL.
 */
import type Database from "better-sqlite3";

export const RUNS = 1_000_000;
const JOBS = 100;
const MIX = "90% succeeded, 5% skipped, 3% failed, 2% missed";

export interface FillResult {
  ms: number;
  jobs: number;
  steps: number;
  deliveries: number;
  mix: string;
}

const STATUS = `CASE WHEN x % 100 < 90 THEN 'succeeded' WHEN x % 100 < 95 THEN 'skipped' WHEN x % 100 < 98 THEN 'failed' ELSE 'missed' END`;

export function fillLedger(db: Database.Database): FillResult {
  const start = Date.now() - RUNS * 60_000;
  const started = performance.now();
  const indexes = db
    .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL`)
    .all() as { name: string; sql: string }[];
  db.pragma("journal_mode = DELETE");
  db.pragma("synchronous = OFF");
  db.transaction(() => {
    for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
    db.prepare(
      `WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < @runs),
        gen AS (SELECT x, ${STATUS} AS status, @start + x * 60000 AS slot FROM seq)
      INSERT INTO runs (id, job, skill, trigger, status, reason, scheduled_for, started_at, finished_at, attempt, error,
        input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, owner_pid, owner_instance)
      SELECT x, 'job-' || (x % @jobs), CASE WHEN x % 2 THEN 'data-digest' ELSE 'blog-autopilot' END, 'schedule', status,
        CASE status WHEN 'skipped' THEN 'nothing new' WHEN 'missed' THEN 'not run at its time' END,
        slot, CASE WHEN status = 'missed' THEN NULL ELSE slot + 12 END, slot + CASE WHEN status = 'missed' THEN 0 ELSE 2400 END,
        CASE WHEN status = 'missed' THEN 0 ELSE 1 END, CASE WHEN status = 'failed' THEN 'Claude: 529 overloaded_error (after 3 attempts)' END,
        CASE WHEN status = 'succeeded' THEN 3100 ELSE 0 END, CASE WHEN status = 'succeeded' THEN 850 ELSE 0 END, 0,
        CASE WHEN status = 'succeeded' THEN 2900 ELSE 0 END, CASE WHEN status = 'succeeded' THEN 0.0142 ELSE 0 END, 4242, 'bench'
      FROM gen`,
    ).run({ runs: RUNS, jobs: JOBS, start });
    for (const index of indexes) db.exec(index.sql);
    db.exec(`INSERT INTO steps (run_id, step_id, status, started_at, finished_at, result, error, seq)
      SELECT id, 'gather', 'succeeded', scheduled_for + 20, scheduled_for + 900, '{"items":12}', NULL, 0 FROM runs WHERE status IN ('succeeded','failed')`);
    db.exec(`INSERT INTO steps (run_id, step_id, status, started_at, finished_at, result, error, seq)
      SELECT id, 'digest', CASE status WHEN 'failed' THEN 'failed' ELSE 'succeeded' END, scheduled_for + 900, finished_at,
        CASE status WHEN 'failed' THEN NULL ELSE '{"title":"Weekly digest"}' END, error, 1 FROM runs WHERE status IN ('succeeded','failed')`);
    db.exec(`INSERT INTO deliveries (run_id, seq, target, url, detail)
      SELECT id, 0, 'discord', 'https://discord.com/channels/1/2/' || id, NULL FROM runs WHERE status = 'succeeded' AND id % 10 = 0`);
  }).immediate();
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const countOf = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    ms: performance.now() - started,
    jobs: JOBS,
    steps: countOf(`SELECT COUNT(*) AS n FROM steps`),
    deliveries: countOf(`SELECT COUNT(*) AS n FROM deliveries`),
    mix: MIX,
  };
}
