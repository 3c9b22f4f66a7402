/**
 * @module lock — one daemon per data directory. A lock file holds the owner's pid; a lock left by
 * a process that no longer exists (kill -9, a crash) is taken over, a live one is refused.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

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
  file: string;
  release(): void;
}

export class LockHeldError extends Error {
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(`another Sundial daemon (pid ${pid}) is already using this data directory (${file}); stop it first, or set SUNDIAL_DATA_DIR to another directory`);
  }
}

export function acquireLock(dataDir: string): DaemonLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "daemon.lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      closeSync(fd);
      return {
        file,
        release() {
          try {
            const held = JSON.parse(readFileSync(file, "utf8")) as { pid?: number };
            if (held.pid === process.pid) rmSync(file, { force: true });
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      let pid = 0;
      try {
        pid = Number((JSON.parse(readFileSync(file, "utf8")) as { pid?: number }).pid);
      } catch {
        // Unreadable or half-written: treat as stale.
      }
      if (pid && pid !== process.pid && pidAlive(pid)) throw new LockHeldError(file, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take the daemon lock ${file}`);
}
