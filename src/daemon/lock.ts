/**
 * @module lock — one daemon per data directory, held by the kernel. The lock is an exclusive
 * SQLite transaction on `daemon.lock.db` that is opened and never committed: SQLite takes it with
 * POSIX advisory locks (fcntl), which the kernel drops when the process dies however it dies, so a
 * lock can never be left behind and no pid is trusted (a pid can be reused). Two daemons starting
 * at once both ask the kernel for the same lock: one gets it, the other is refused.
 *
 * Taking it waits (SQLite's busy timeout) instead of failing at the first conflict: on its way to
 * the exclusive lock a process holds a shared one for a moment, so with no wait two racers can each
 * see the other's shared lock and both refuse, leaving no daemon. The wait outlasts such moments;
 * a real holder keeps the lock, so the newcomer is refused once it ends.
 *
 * `daemon.lock` beside it is only a note for people and for the refusal message (who holds it,
 * since when); it proves nothing and a stale one is simply overwritten.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface DaemonLock {
  /** The note naming the holder (`daemon.lock`). */
  file: string;
  release(): void;
}

export class LockHeldError extends Error {
  constructor(
    readonly file: string,
    readonly pid: number | null,
  ) {
    super(
      `another Sundial daemon (${pid ? `pid ${pid}` : "its pid is not known yet"}) is already using this data directory (${file}); stop it first, or set SUNDIAL_DATA_DIR to another directory`,
    );
  }
}

function holderPid(note: string): number | null {
  try {
    const pid = Number((JSON.parse(readFileSync(note, "utf8")) as { pid?: unknown }).pid);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** How long a start waits for the lock before it is refused (see the module comment). */
export const LOCK_WAIT_MS = 1_000;

export function acquireLock(dataDir: string, waitMs = LOCK_WAIT_MS): DaemonLock {
  mkdirSync(dataDir, { recursive: true });
  const note = join(dataDir, "daemon.lock");
  const lockFile = join(dataDir, "daemon.lock.db");
  // The lock file is never deleted: a process that opened it just before an unlink would lock the
  // old inode while a newcomer locks a new file, and both would run.
  const db = new Database(lockFile, { timeout: waitMs });
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === "SQLITE_BUSY" || (error as { code?: string }).code === "SQLITE_LOCKED")
      throw new LockHeldError(note, holderPid(note));
    throw new Error(
      `cannot take the daemon lock ${lockFile}: ${(error as Error).message} (if the file is damaged, remove it while no daemon runs)`,
      { cause: error },
    );
  }
  writeFileSync(note, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), lock: lockFile }));
  let held = true;
  return {
    file: note,
    release() {
      if (!held) return;
      held = false;
      // The note first: once the lock is released another daemon may write its own.
      if (holderPid(note) === process.pid) rmSync(note, { force: true });
      db.close();
    },
  };
}
