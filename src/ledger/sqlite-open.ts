/**
 * @module sqlite-open — opens the ledger file: pragmas (WAL, no busy wait),
 * read-only opening for the inspecting commands, the one-time switch to incremental auto-vacuum,
 * and errors that name the file and say how to recover.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** The ledger file cannot be used as it is; the CLI exits 2 (systemd's unit does not restart on 2). */
export class LedgerOpenError extends Error {
  override readonly name = "LedgerOpenError";
}

function sqliteCode(error: unknown): string {
  return typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "";
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Turns an SQLite error met while opening `file` into one that names the file and the way out. */
export function openError(file: string, error: unknown): Error {
  const code = sqliteCode(error);
  const message = (error as Error)?.message ?? String(error);
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT")) {
    return new LedgerOpenError(
      `${file} is not a SQLite database or is corrupt (${message}). Stop Sundial, move it aside ` +
        `(mv "${file}" "${file}.corrupt-${today()}", and its -wal and -shm files if present) and start again: ` +
        `a new, empty ledger is created — or restore the file from a backup.`,
      { cause: error },
    );
  }
  if (
    code.startsWith("SQLITE_CANTOPEN") ||
    code.startsWith("SQLITE_READONLY") ||
    code === "SQLITE_PERM" ||
    code === "SQLITE_AUTH"
  ) {
    return new LedgerOpenError(
      `cannot open the ledger ${file} (${message}): check that its directory exists and that this user may read and write it ` +
        `(SUNDIAL_DATA_DIR chooses the directory)`,
      { cause: error },
    );
  }
  return new Error(`ledger ${file}: ${message}`, { cause: error });
}

export interface OpenOptions {
  readonly?: boolean;
  /** Told when the one-time VACUUM (switching to incremental auto-vacuum) could not run. */
  warn?: (message: string) => void;
}

/**
 * Read-write: creates the file (and its directory) if needed. Once open and migrated,
 * `busy_timeout` is 0 (`noBusyWait`) because the driver is synchronous: a busy wait would block the
 * whole event loop (no timer, no health check); the store retries SQLITE_BUSY asynchronously
 * instead (see sqlite-retry.ts). `synchronous` is
 * NORMAL for bookkeeping; the writes that record something done outside (a step's result, a
 * delivery, state) switch to FULL for their commit (see `durably` in sqlite.ts).
 */
export function openDatabase(file: string, options: OpenOptions = {}): Database.Database {
  if (options.readonly) return openReadonly(file);
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    // Opening may wait for another process (nothing else runs yet); `noBusyWait` ends that after migrating.
    db.pragma("busy_timeout = 5000");
    const fresh = (db.pragma("page_count", { simple: true }) as number) === 0;
    // Must be chosen before the first table is created; an existing file needs a VACUUM (below).
    if (fresh) db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    if (!fresh && (db.pragma("auto_vacuum", { simple: true }) as number) !== 2)
      switchToIncrementalVacuum(db, file, options.warn);
    return db;
  } catch (error) {
    db?.close();
    throw openError(file, error);
  }
}

/** The inspecting commands never create the ledger (nor its directory) and never write to it. */
function openReadonly(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    // A CLI command may wait: it blocks nobody but itself.
    db.pragma("busy_timeout = 5000");
    db.prepare("SELECT COUNT(*) FROM sqlite_master").get();
    return db;
  } catch (error) {
    db?.close();
    throw openError(file, error);
  }
}

/** From now on SQLITE_BUSY is returned at once, for the store to retry on timers. */
export function noBusyWait(db: Database.Database): void {
  db.pragma("busy_timeout = 0");
}

/** True when a read-only open would find a ledger there. */
export function ledgerExists(file: string): boolean {
  return existsSync(file);
}

/**
 * A ledger made before incremental auto-vacuum needs one VACUUM to switch. It rewrites the file
 * (and needs as much free space again), and fails if another process has it open; then it is only
 * tried again at the next start, and the ledger works as before meanwhile.
 */
function switchToIncrementalVacuum(db: Database.Database, file: string, warn?: (message: string) => void): void {
  try {
    db.pragma("auto_vacuum = INCREMENTAL");
    db.exec("VACUUM");
  } catch (error) {
    warn?.(
      `could not switch ${file} to incremental auto-vacuum (${(error as Error).message}); the file will not shrink after retention until this succeeds at a later start`,
    );
  }
}
