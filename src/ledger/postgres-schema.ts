/**
 * @module postgres-schema — the ledger's tables in PostgreSQL, applied in order under an advisory
 * lock (so two daemons starting on a new database at once apply each migration once). Times are
 * epoch milliseconds (bigint) like the SQLite ledger, so `sundial migrate` copies rows as they are;
 * the partial unique index on (job, scheduled_for) is what makes "one row per slot" hold across
 * daemons: the second claim's `INSERT … ON CONFLICT DO NOTHING` inserts nothing.
 */
import type pg from "pg";

/** Any constant both daemons agree on; `pg_advisory_xact_lock` serializes the migrations. */
const MIGRATION_LOCK = 0x53_75_6e_64; // "Sund"

export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE runs (
    id BIGSERIAL PRIMARY KEY,
    job TEXT NOT NULL,
    skill TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule','catchup','manual','retry','resume')),
    status TEXT NOT NULL CHECK (status IN ('queued','running','retrying','succeeded','failed','timed_out','skipped','missed','interrupted','cancelled')),
    reason TEXT,
    scheduled_for BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    attempt INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION DEFAULT 0,
    resume_of BIGINT REFERENCES runs(id) ON DELETE SET NULL,
    dry_run BOOLEAN NOT NULL DEFAULT false,
    owner_pid INTEGER NOT NULL DEFAULT 0,
    owner_instance TEXT NOT NULL DEFAULT '',
    alerted_at BIGINT,
    lease_expires_at BIGINT,
    epoch BIGINT NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX runs_one_row_per_slot ON runs(job, scheduled_for) WHERE trigger IN ('schedule','catchup');
  -- One resume per interrupted run, whichever daemon finds it first.
  CREATE UNIQUE INDEX runs_one_resume ON runs(resume_of) WHERE trigger = 'resume';
  CREATE INDEX runs_by_job ON runs(job, id);
  CREATE INDEX runs_by_status ON runs(status, id);
  CREATE INDEX runs_active ON runs(job) WHERE status IN ('queued','running','retrying');
  CREATE INDEX runs_resume_of ON runs(resume_of) WHERE resume_of IS NOT NULL;
  CREATE INDEX runs_finished ON runs(finished_at);
  CREATE INDEX runs_succeeded ON runs(job, id) WHERE status = 'succeeded' AND NOT dry_run;
  CREATE INDEX runs_lease ON runs(lease_expires_at) WHERE status IN ('queued','running','retrying');
  CREATE INDEX runs_owner ON runs(owner_instance) WHERE status IN ('queued','running','retrying');

  CREATE TABLE steps (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running','succeeded','failed')),
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    result TEXT,
    error TEXT,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION DEFAULT 0,
    reused_from BIGINT,
    seq INTEGER NOT NULL,
    PRIMARY KEY (run_id, step_id)
  );

  CREATE TABLE deliveries (
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    target TEXT NOT NULL,
    url TEXT,
    detail TEXT,
    step_id TEXT,
    status TEXT NOT NULL DEFAULT 'succeeded' CHECK (status IN ('succeeded','failed','pending')),
    error TEXT,
    PRIMARY KEY (run_id, seq)
  );
  CREATE UNIQUE INDEX deliveries_by_step ON deliveries(run_id, step_id) WHERE step_id IS NOT NULL;
  CREATE INDEX runs_by_job_status ON runs(job, status, id);

  CREATE TABLE job_pauses (
    job TEXT PRIMARY KEY,
    reason TEXT,
    paused_at BIGINT NOT NULL
  );

  CREATE TABLE job_state (
    job TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (job, key)
  );

  CREATE TABLE job_cursor (
    job TEXT PRIMARY KEY,
    first_seen BIGINT NOT NULL
  );

  CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), at BIGINT NOT NULL);

  CREATE TABLE nodes (
    instance TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    version TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    config_hash TEXT NOT NULL
  );
  `,
  // Spend and budgets (src/budget/), as in the SQLite ledger: spend per job, UTC day and model
  // apart from runs (pruning keeps month totals), each run's settled spend, calls in flight, and
  // budget alerts sent once.
  `
  CREATE TABLE spend (
    job TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    calls BIGINT NOT NULL DEFAULT 0,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (job, day, model)
  );
  CREATE INDEX spend_by_day ON spend(day);
  CREATE TABLE run_spend (
    run_id BIGINT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0
  );
  CREATE TABLE spend_reservations (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL,
    job TEXT NOT NULL,
    amount_usd DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX spend_reservations_by_run ON spend_reservations(run_id);
  CREATE INDEX spend_reservations_by_job ON spend_reservations(job);
  CREATE TABLE budget_alerts (key TEXT PRIMARY KEY, sent_at BIGINT NOT NULL);
  `,
  // An operator's cancel of a run another daemon holds, kept on the row so it is never lost
  // (NOTIFY only makes it fast): the holder looks for it when it reconnects and on every orphan check.
  `
  ALTER TABLE runs ADD COLUMN cancel_requested_at BIGINT, ADD COLUMN cancel_reason TEXT;
  CREATE INDEX runs_cancel_requested ON runs(owner_instance) WHERE cancel_requested_at IS NOT NULL AND status IN ('queued','running','retrying');
  -- Reservations settled: a settle tried again after its answer was lost adds nothing twice, and one
  -- whose reservation was already released (its run ended first) still counts.
  CREATE TABLE spend_settled (
    id BIGINT PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE
  );
  CREATE INDEX spend_settled_by_run ON spend_settled(run_id);
  `,
];

/** Applies the migrations not yet applied, each once even when several daemons start together. */
export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS sundial_schema (version INTEGER NOT NULL)");
    const { rows } = await client.query<{ version: number }>("SELECT version FROM sundial_schema");
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query("INSERT INTO sundial_schema (version) VALUES (0)");
    for (; version < PG_MIGRATIONS.length; version++) await client.query(PG_MIGRATIONS[version] as string);
    await client.query("UPDATE sundial_schema SET version = $1", [version]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
