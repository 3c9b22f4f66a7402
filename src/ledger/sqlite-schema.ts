/**
 * @module sqlite-schema — the ledger's tables. The partial unique index on (job, scheduled_for)
 * is what makes "one row per slot" true even when two processes race: the second insert is ignored.
 */
import type Database from "better-sqlite3";
import { RUN_STATUSES } from "../types.ts";

/** `'a','b'` for an SQL `IN (…)` of fixed words (never user input). */
const sqlWords = (words: readonly string[]) => words.map((word) => `'${word}'`).join(",");

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    skill TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule','catchup','manual','retry','resume')),
    status TEXT NOT NULL CHECK (status IN ('queued','running','retrying','succeeded','failed','timed_out','skipped','missed','interrupted')),
    reason TEXT,
    scheduled_for INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    attempt INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL DEFAULT 0,
    resume_of INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    dry_run INTEGER NOT NULL DEFAULT 0,
    owner_pid INTEGER NOT NULL DEFAULT 0,
    owner_instance TEXT NOT NULL DEFAULT '',
    alerted_at INTEGER
  );
  CREATE UNIQUE INDEX runs_one_row_per_slot ON runs(job, scheduled_for) WHERE trigger IN ('schedule','catchup');
  CREATE INDEX runs_by_job ON runs(job, id);
  CREATE INDEX runs_by_status ON runs(status, id);
  CREATE INDEX runs_active ON runs(job) WHERE status IN ('queued','running','retrying');
  CREATE INDEX runs_resume_of ON runs(resume_of) WHERE resume_of IS NOT NULL;
  CREATE INDEX runs_finished ON runs(finished_at);
  CREATE INDEX runs_succeeded ON runs(job, id) WHERE status = 'succeeded' AND dry_run = 0;

  CREATE TABLE steps (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed')),
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    result TEXT,
    error TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL DEFAULT 0,
    reused_from INTEGER,
    seq INTEGER NOT NULL,
    PRIMARY KEY (run_id, step_id)
  ) WITHOUT ROWID;

  CREATE TABLE deliveries (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    target TEXT NOT NULL,
    url TEXT,
    detail TEXT,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE job_state (
    job TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (job, key)
  ) WITHOUT ROWID;

  CREATE TABLE job_cursor (
    job TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
  `,
  // 2: leases and fencing (a row's holder renews lease_expires_at while it works; every write of
  // the run must match its epoch) and the final status 'cancelled'. SQLite cannot alter a CHECK,
  // so the table is rebuilt (foreign keys are off meanwhile, see migrate) with its rows and indexes.
  `
  CREATE TABLE runs_next (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    skill TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule','catchup','manual','retry','resume')),
    status TEXT NOT NULL CHECK (status IN (${sqlWords(RUN_STATUSES)})),
    reason TEXT,
    scheduled_for INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    attempt INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL DEFAULT 0,
    resume_of INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    dry_run INTEGER NOT NULL DEFAULT 0,
    owner_pid INTEGER NOT NULL DEFAULT 0,
    owner_instance TEXT NOT NULL DEFAULT '',
    alerted_at INTEGER,
    lease_expires_at INTEGER,
    epoch INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO runs_next (id, job, skill, trigger, status, reason, scheduled_for, started_at, finished_at, attempt, error,
    input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, resume_of, dry_run, owner_pid, owner_instance, alerted_at)
    SELECT id, job, skill, trigger, status, reason, scheduled_for, started_at, finished_at, attempt, error,
    input_tokens, output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, resume_of, dry_run, owner_pid, owner_instance, alerted_at FROM runs;
  DROP TABLE runs;
  ALTER TABLE runs_next RENAME TO runs;
  CREATE UNIQUE INDEX runs_one_row_per_slot ON runs(job, scheduled_for) WHERE trigger IN ('schedule','catchup');
  CREATE INDEX runs_by_job ON runs(job, id);
  CREATE INDEX runs_by_status ON runs(status, id);
  CREATE INDEX runs_active ON runs(job) WHERE status IN ('queued','running','retrying');
  CREATE INDEX runs_resume_of ON runs(resume_of) WHERE resume_of IS NOT NULL;
  CREATE INDEX runs_finished ON runs(finished_at);
  CREATE INDEX runs_succeeded ON runs(job, id) WHERE status = 'succeeded' AND dry_run = 0;
  CREATE INDEX runs_lease ON runs(lease_expires_at) WHERE status IN ('queued','running','retrying');
  `,
  // 3: pauses kept across restarts; each delivery's own status (a failed one is recorded,
  // keyed by its delivery step so a redelivery updates the same row); paging by job and status.
  `
  CREATE TABLE job_pauses (
    job TEXT PRIMARY KEY,
    reason TEXT,
    paused_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  ALTER TABLE deliveries ADD COLUMN step_id TEXT;
  ALTER TABLE deliveries ADD COLUMN status TEXT NOT NULL DEFAULT 'succeeded' CHECK (status IN ('succeeded','failed','pending'));
  ALTER TABLE deliveries ADD COLUMN error TEXT;
  CREATE UNIQUE INDEX deliveries_by_step ON deliveries(run_id, step_id) WHERE step_id IS NOT NULL;
  CREATE INDEX runs_by_job_status ON runs(job, status, id);
  `,
  // 4: spend and budgets (src/budget/). Spend per job, UTC day and model lives apart from `runs`, so
  // pruning runs keeps month totals; run_spend is a run's settled spend (perRun caps, with resume_of
  // chains); reservations are calls in flight; budget_alerts makes each budget alert a one-off.
  `
  CREATE TABLE spend (
    job TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    calls INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (job, day, model)
  ) WITHOUT ROWID;
  CREATE INDEX spend_by_day ON spend(day);
  CREATE TABLE run_spend (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    cost_usd REAL NOT NULL DEFAULT 0
  );
  CREATE TABLE spend_reservations (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    job TEXT NOT NULL,
    amount_usd REAL NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX spend_reservations_by_run ON spend_reservations(run_id);
  CREATE INDEX spend_reservations_by_job ON spend_reservations(job);
  CREATE TABLE budget_alerts (key TEXT PRIMARY KEY, sent_at INTEGER NOT NULL) WITHOUT ROWID;
  `,
  // 5: the daemons using the ledger (`sundial nodes`, /healthz checks.nodes).
  `
  CREATE TABLE nodes (
    instance TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    version TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    config_hash TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
];

export function migrate(db: Database.Database): void {
  if ((db.pragma("user_version", { simple: true }) as number) >= MIGRATIONS.length) return;
  // A rebuilt table is dropped and renamed: with foreign keys on, dropping `runs` would cascade to
  // every step and delivery. The pragma is a no-op inside a transaction, so it is set around it,
  // and the keys are checked before the transaction commits.
  const foreignKeys = db.pragma("foreign_keys", { simple: true }) as number;
  db.pragma("foreign_keys = OFF");
  try {
    // The version is read inside the write transaction, so two processes opening a new database
    // at once cannot both apply the same migration.
    db.transaction(() => {
      const version = db.pragma("user_version", { simple: true }) as number;
      for (let next = version; next < MIGRATIONS.length; next++) {
        db.exec(MIGRATIONS[next] as string);
        db.pragma(`user_version = ${next + 1}`);
      }
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length)
        throw new Error(`the ledger's migration left ${broken.length} broken reference(s); the database is unchanged`);
    }).immediate();
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? "ON" : "OFF"}`);
  }
}
