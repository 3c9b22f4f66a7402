/**
 * @module migrate — `sundial migrate [<postgres-url>]`: copies the SQLite ledger of the data
 * directory into PostgreSQL (runs with their ids, steps, deliveries, job state, catch-up cursors,
 * pauses, alert streaks, spend and budget alerts) in one transaction. Rows already there are skipped (a run by its id, or by its slot
 * when a daemon already recorded that slot), so it can be run again; the id sequence is moved past
 * the copied ids.
 */
import Database from "better-sqlite3";
import pg from "pg";
import type { App } from "../app.ts";
import { databaseUrl } from "../config/env.ts";
import { UsageError } from "../errors.ts";
import { describeUrl, openPostgresStore } from "../ledger/postgres.ts";
import { ledgerExists } from "../ledger/sqlite-open.ts";

type Row = Record<string, unknown>;
const RUN_COLUMNS = [
  "id",
  "job",
  "skill",
  "trigger",
  "status",
  "reason",
  "scheduled_for",
  "started_at",
  "finished_at",
  "attempt",
  "error",
  "input_tokens",
  "output_tokens",
  "cache_write_tokens",
  "cache_read_tokens",
  "cost_usd",
  "resume_of",
  "dry_run",
  "owner_pid",
  "owner_instance",
  "alerted_at",
  "lease_expires_at",
  "epoch",
];
const STEP_COLUMNS = [
  "run_id",
  "step_id",
  "status",
  "started_at",
  "finished_at",
  "result",
  "error",
  "input_tokens",
  "output_tokens",
  "cache_write_tokens",
  "cache_read_tokens",
  "cost_usd",
  "reused_from",
  "seq",
];
const MIGRATE_LOCK = 0x53_75_6e_65;

export interface MigrateCounts {
  /** skipped: the same run is already there; conflicts: its id or its slot holds another run (not copied). */
  runs: { copied: number; skipped: number; conflicts: number };
  steps: number;
  deliveries: number;
  state: number;
  cursors: number;
  pauses: number;
  /** Spend rows (job, UTC day, model), runs' settled spend, budget alerts sent. */
  spend: number;
  runSpend: number;
  budgetAlerts: number;
}

const placeholders = (count: number) => Array.from({ length: count }, (_, i) => `$${i + 1}`).join(", ");

export async function migrateLedger(sqliteFile: string, url: string): Promise<MigrateCounts> {
  // Creates (or updates) the schema, under its own advisory lock.
  (await openPostgresStore(url)).close();
  const source = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const counts: MigrateCounts = {
    runs: { copied: 0, skipped: 0, conflicts: 0 },
    steps: 0,
    deliveries: 0,
    state: 0,
    cursors: 0,
    pauses: 0,
    spend: 0,
    runSpend: 0,
    budgetAlerts: 0,
  };
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATE_LOCK]);
    const has = (table: string) =>
      Boolean(source.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table));
    const runColumns = new Set(
      (source.prepare(`PRAGMA table_info(runs)`).all() as { name: string }[]).map((c) => c.name),
    );
    const columns = RUN_COLUMNS.filter((name) => runColumns.has(name));
    const present = new Set<number>();
    for (const row of source.prepare(`SELECT * FROM runs ORDER BY id`).iterate() as Iterable<Row>) {
      const values = columns.map((name) => (name === "dry_run" ? row.dry_run === 1 : row[name]));
      const resumeAt = columns.indexOf("resume_of");
      // A resume whose interrupted run was not copied (its slot was already there) loses the link only.
      if (resumeAt >= 0 && values[resumeAt] !== null && !present.has(values[resumeAt] as number)) {
        const { rowCount } = await client.query("SELECT 1 FROM runs WHERE id = $1", [values[resumeAt]]);
        if (!rowCount) values[resumeAt] = null;
      }
      const inserted = await client.query(
        `INSERT INTO runs (${columns.join(", ")}) VALUES (${placeholders(columns.length)}) ON CONFLICT DO NOTHING RETURNING id`,
        values,
      );
      if (inserted.rowCount) {
        counts.runs.copied++;
        present.add(row.id as number);
        continue;
      }
      // Already there from an earlier migrate (same id, same slot): its steps and deliveries may still be missing.
      const same = await client.query(
        "SELECT 1 FROM runs WHERE id = $1 AND job = $2 AND scheduled_for = $3 AND trigger = $4",
        [row.id, row.job, row.scheduled_for, row.trigger],
      );
      if (same.rowCount) {
        counts.runs.skipped++;
        present.add(row.id as number);
      } else {
        counts.runs.conflicts++;
      }
    }
    for (const step of source.prepare(`SELECT * FROM steps ORDER BY run_id, seq`).iterate() as Iterable<Row>) {
      if (!present.has(step.run_id as number)) continue;
      const result = await client.query(
        `INSERT INTO steps (${STEP_COLUMNS.join(", ")}) VALUES (${placeholders(STEP_COLUMNS.length)}) ON CONFLICT DO NOTHING`,
        STEP_COLUMNS.map((name) => step[name]),
      );
      counts.steps += result.rowCount ?? 0;
    }
    for (const delivery of source.prepare(`SELECT * FROM deliveries ORDER BY run_id, seq`).iterate() as Iterable<Row>) {
      if (!present.has(delivery.run_id as number)) continue;
      // Ledgers from before per-target delivery rows have no step_id, status or error: all succeeded.
      const result = await client.query(
        `INSERT INTO deliveries (run_id, seq, target, url, detail, step_id, status, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [
          delivery.run_id,
          delivery.seq,
          delivery.target,
          delivery.url,
          delivery.detail,
          delivery.step_id ?? null,
          delivery.status ?? "succeeded",
          delivery.error ?? null,
        ],
      );
      counts.deliveries += result.rowCount ?? 0;
    }
    if (has("job_pauses")) {
      for (const pause of source.prepare(`SELECT * FROM job_pauses`).iterate() as Iterable<Row>) {
        const result = await client.query(
          `INSERT INTO job_pauses (job, reason, paused_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
          [pause.job, pause.reason, pause.paused_at],
        );
        counts.pauses += result.rowCount ?? 0;
      }
    }
    for (const state of source.prepare(`SELECT * FROM job_state`).iterate() as Iterable<Row>) {
      const result = await client.query(
        `INSERT INTO job_state (job, key, value, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [state.job, state.key, state.value, state.updated_at],
      );
      counts.state += result.rowCount ?? 0;
    }
    if (has("job_cursor")) {
      for (const cursor of source.prepare(`SELECT * FROM job_cursor`).iterate() as Iterable<Row>) {
        const result = await client.query(
          `INSERT INTO job_cursor (job, first_seen) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [cursor.job, cursor.first_seen],
        );
        counts.cursors += result.rowCount ?? 0;
      }
    }
    // Budgets: what was spent (so a day's or month's caps count it), each run's settled spend (perRun
    // caps of resumed chains) and the alerts already sent (not sent again). A (job, day, model) row
    // PostgreSQL already has is kept as it is, never added to: a rerun counts nothing twice.
    // Reservations are not copied: they belong to calls in flight in a process that is now stopped.
    if (has("spend")) {
      for (const row of source.prepare(`SELECT * FROM spend ORDER BY day, job, model`).iterate() as Iterable<Row>) {
        const result = await client.query(
          `INSERT INTO spend (job, day, model, calls, input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [
            row.job,
            row.day,
            row.model,
            row.calls,
            row.input_tokens,
            row.output_tokens,
            row.cache_write_tokens,
            row.cache_read_tokens,
            row.cost_usd,
          ],
        );
        counts.spend += result.rowCount ?? 0;
      }
    }
    if (has("run_spend")) {
      for (const row of source.prepare(`SELECT * FROM run_spend ORDER BY run_id`).iterate() as Iterable<Row>) {
        if (!present.has(row.run_id as number)) continue;
        const result = await client.query(
          `INSERT INTO run_spend (run_id, cost_usd) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [row.run_id, row.cost_usd],
        );
        counts.runSpend += result.rowCount ?? 0;
      }
    }
    if (has("budget_alerts")) {
      for (const row of source.prepare(`SELECT * FROM budget_alerts`).iterate() as Iterable<Row>) {
        const result = await client.query(
          `INSERT INTO budget_alerts (key, sent_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [row.key, row.sent_at],
        );
        counts.budgetAlerts += result.rowCount ?? 0;
      }
    }
    // New runs get ids after the copied ones.
    await client.query(`SELECT setval(pg_get_serial_sequence('runs', 'id'), GREATEST((SELECT MAX(id) FROM runs), 1))`);
    await client.query("COMMIT");
    return counts;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    source.close();
    await client.end();
  }
}

export async function migrateCommand(app: App, target: string | undefined): Promise<void> {
  let url: string | null;
  try {
    url = databaseUrl({ SUNDIAL_DATABASE_URL: target ?? app.env.SUNDIAL_DATABASE_URL });
  } catch (error) {
    throw new UsageError(
      (error as Error).message.replace("SUNDIAL_DATABASE_URL", target ? "the URL given" : "SUNDIAL_DATABASE_URL"),
    );
  }
  if (!url)
    throw new UsageError(
      "give the PostgreSQL URL to copy the ledger into (sundial migrate postgres://user:password@host:5432/database), or set SUNDIAL_DATABASE_URL",
    );
  if (!ledgerExists(app.paths.database))
    throw new UsageError(
      `there is no SQLite ledger at ${app.paths.database} to copy (SUNDIAL_DATA_DIR names its directory)`,
    );
  const counts = await migrateLedger(app.paths.database, url);
  process.stdout.write(
    `copied ${app.paths.database} into ${describeUrl(url)}: ${counts.runs.copied} run(s) (${counts.runs.skipped} already there), ${counts.steps} step(s), ${counts.deliveries} deliveries, ${counts.state} state entries, ${counts.cursors} job cursor(s), ${counts.pauses} pause(s), ${counts.spend} spend row(s), ${counts.runSpend} run spend(s), ${counts.budgetAlerts} budget alert(s)\n`,
  );
  if (counts.runs.conflicts) {
    process.stdout.write(
      `${counts.runs.conflicts} run(s) not copied: their id or their slot already holds another run in PostgreSQL (migrate before starting daemons on it)\n`,
    );
  }
}
