/**
 * @module control-listener — controls that reach the daemon holding the run, on a shared ledger:
 * a cancel recorded on a run this daemon holds aborts it here; a pause or resume made on another
 * daemon is read into this one's pauses (which the scheduler reads at each fire). Messages come by
 * the store's control channel (PostgreSQL: LISTEN/NOTIFY) as the fast path; the ledger is the
 * record, re-read after each (re)connection and on every `check()` (the daemon's orphan timer), so
 * a message lost while disconnected delays a control, never loses it.
 */
import type { Logger } from "pino";
import type { DaemonControls } from "../control/controls.ts";
import { errorMessage } from "../errors.ts";
import type { Owner, RunStore } from "../ledger/store.ts";
import type { Scheduler } from "../schedule/scheduler.ts";

export interface ControlListener {
  /** Re-reads the cancel requests and pauses from the ledger. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export function listenForControls(deps: {
  store: RunStore;
  scheduler: Scheduler;
  controls: DaemonControls;
  owner: Owner;
  log: Logger;
}): ControlListener | null {
  const { store, scheduler, controls, owner, log } = deps;
  const channel = store.controlChannel;
  if (!channel || !store.cancelRequests) return null;
  const cancelRequested = async () => {
    for (const { runId, reason } of (await store.cancelRequests?.(owner)) ?? []) {
      if (!scheduler.holds(runId)) continue;
      const result = await scheduler.cancel(runId, reason);
      log.info({ run: runId, result }, "cancel requested through another daemon: aborting the run");
    }
  };
  const safely = (what: string, work: () => Promise<void>) =>
    work().catch((error: unknown) =>
      log.warn({ err: errorMessage(error) }, `${what} failed; retried on the next check`),
    );
  const check = async () => {
    await Promise.all([
      safely("reading cancel requests", cancelRequested),
      safely("reading pauses", () => controls.refreshPauses()),
    ]);
  };
  const listening = channel.listen(
    (message) => {
      if (message.type === "pauses") void safely("reading pauses", () => controls.refreshPauses());
      else if (message.owner === owner.instance) void safely("reading cancel requests", cancelRequested);
    },
    () => void check(),
    (message) => log.warn(message),
  );
  return { check, close: () => listening.close() };
}
