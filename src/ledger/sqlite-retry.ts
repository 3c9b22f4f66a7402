/**
 * @module sqlite-retry — retries the ledger's operations when SQLite says "not now": busy or locked
 * (another process is writing) with short backoff on timers, never blocking the event loop; and for
 * the rows that must never be lost (a slot's claim, a run's final row), a full disk or an I/O error
 * too, until the write lands or the store is closed.
 */
import { retryEachMethod } from "./retry-each.ts";

/** Busy or locked: another connection holds the lock; it is released within moments. */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

/** Full disk (or page limit) and I/O errors: may clear when an operator frees space. */
export function isResourceFault(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (code === "SQLITE_FULL" || code.startsWith("SQLITE_IOERR"));
}

export interface RetryPolicy {
  /** How long busy/locked errors are retried before the operation fails (default 30 s). */
  busyBudgetMs?: number;
  /** Longest wait between two tries of a write that must land (default 5 s). */
  maxDelayMs?: number;
  /** Told about faults of must-land writes (first one, then every tenth). */
  warn?: (message: string) => void;
  /** Rewrites an error that is not retried (a corrupt file found mid-run names the file and the recovery). */
  explain?: (error: unknown) => unknown;
}

/**
 * Wraps every method of `store` that returns a promise. Each try is one synchronous call of the
 * driver, so an operation either happened entirely (its transaction committed) or not at all, and
 * trying it again is safe. `mustLand` names the methods retried through full-disk and I/O errors.
 */
export function withRetries<T extends object>(
  store: T,
  mustLand: ReadonlySet<string>,
  isClosed: () => boolean,
  policy: RetryPolicy = {},
): T {
  const budget = policy.busyBudgetMs ?? 30_000;
  const maxDelay = policy.maxDelayMs ?? 5_000;
  return retryEachMethod(
    store,
    isClosed,
    (name, error, tries, elapsedMs) => {
      const landing = mustLand.has(name);
      const transient = isTransient(error);
      if (!(transient ? landing || elapsedMs < budget : landing && isResourceFault(error))) return null;
      return {
        delayMs: Math.min(maxDelay, transient ? 2 * 2 ** Math.min(tries, 7) : 100 * 2 ** Math.min(tries, 6)),
        warn:
          !transient && (tries === 1 || tries % 10 === 0)
            ? `ledger write "${name}" failed (${(error as Error).message}); retrying until it lands — free disk space if the disk is full (try ${tries})`
            : undefined,
      };
    },
    policy,
  );
}
