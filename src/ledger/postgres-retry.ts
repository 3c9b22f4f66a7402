/**
 * @module postgres-retry — the PostgreSQL ledger through a lost connection (a server restart, a
 * failover, a dropped network): each operation is one transaction, so one that failed on the
 * connection did nothing (or, if its COMMIT landed and only the answer was lost, the writes are
 * written to be harmless when repeated: see postgres.ts), and it is tried again on a new connection
 * with backoff. Runs pause their writes meanwhile; the daemon does not crash. A run's final row and
 * a slot's claim are retried until they land; the others for `budgetMs`.
 */
import { retryEachMethod } from "./retry-each.ts";

const MUST_LAND = new Set(["claimRuns", "recordUnrun", "finishRun"]);

/** Connection faults and the server saying "not now" (shutting down, starting, failing over, deadlock). */
export function isConnectionFault(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? "");
  if (/^(08|57P0[1-3]|53300|40001|40P01)/.test(code)) return true;
  if (["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"].includes(code))
    return true;
  const message = (error as Error)?.message ?? "";
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)/i.test(
    message,
  );
}

export function withPgRetries<T extends object>(
  store: T,
  isClosed: () => boolean,
  policy: { warn?: (message: string) => void; budgetMs?: number } = {},
): T {
  const budget = policy.budgetMs ?? 60_000;
  return retryEachMethod(
    store,
    isClosed,
    (name, error, tries, elapsedMs) => {
      if (!isConnectionFault(error) || !(MUST_LAND.has(name) || elapsedMs < budget)) return null;
      return {
        delayMs: Math.min(5_000, 50 * 2 ** Math.min(tries, 7)),
        warn:
          tries === 1 || tries % 10 === 0
            ? `ledger operation "${name}" lost its PostgreSQL connection (${(error as Error).message}); retrying (try ${tries})`
            : undefined,
      };
    },
    policy,
  );
}
