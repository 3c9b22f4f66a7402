/**
 * @module lease — keeps this process's hold on its active runs: every third of the lease it renews
 * the lease of every row it holds (one UPDATE for all of them), so a row is taken from it only when
 * it stopped renewing (dead, or frozen past the lease). Used by the daemon and by `sundial run`.
 */
import type { Logger } from "pino";
import type { Owner, RunStore } from "../ledger/store.ts";
import { errorMessage } from "../errors.ts";

export interface LeaseKeeper {
  /** Renews now (also what the timer does). */
  renew(): Promise<void>;
  stop(): void;
}

export function keepLeases(
  store: RunStore,
  owner: Owner,
  leaseMs: number,
  log: Logger,
  now: () => number = Date.now,
): LeaseKeeper {
  let renewing: Promise<void> | null = null;
  const renew = () =>
    (renewing ??= store
      .renewLeases(owner, now())
      .then(() => undefined)
      .catch((error: unknown) =>
        log.error({ err: errorMessage(error) }, "could not renew the leases of running runs; retrying"),
      )
      .finally(() => (renewing = null)));
  // unref: a lease alone must not keep a finished process alive.
  const timer = setInterval(() => void renew(), Math.max(100, Math.floor(leaseMs / 3))).unref();
  return {
    renew,
    stop: () => clearInterval(timer),
  };
}
