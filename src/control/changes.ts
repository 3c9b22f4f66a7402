/**
 * @module control/changes — tells the operator surfaces when a run's row changed: the store the
 * daemon uses is wrapped so every write that changes a run's state (claimed, started, retrying,
 * finished, cancelled, delivered) names the run, whoever made it (scheduler, runner, a control).
 */
import type { RunStore } from "../ledger/store.ts";

export interface ChangeFeed {
  /** Returns an unsubscribe function. */
  listen(listener: (runId: number) => void): () => void;
  emit(runId: number): void;
  readonly listening: boolean;
}

export function createChangeFeed(): ChangeFeed {
  const listeners = new Set<(runId: number) => void>();
  return {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(runId) {
      for (const listener of listeners) listener(runId);
    },
    get listening() {
      return listeners.size > 0;
    },
  };
}

/** `store` with every run-state write reported to `feed` (after the write; nothing when no one listens). */
export function observeStore(store: RunStore, feed: ChangeFeed): RunStore {
  const after = async <T>(write: Promise<T>, runIds: (result: T) => (number | null)[]): Promise<T> => {
    const result = await write;
    if (feed.listening) for (const id of runIds(result)) if (id !== null) feed.emit(id);
    return result;
  };
  return {
    ...store,
    claimRuns: (claims, owner, now, capacity) =>
      after(store.claimRuns(claims, owner, now, capacity), (results) => results.map((r) => r.runId)),
    async recordUnrun(rows, now) {
      const count = await store.recordUnrun(rows, now);
      if (count && feed.listening) {
        for (const row of rows) {
          const run = await store.slotRun(row.job, row.scheduledFor);
          if (run) feed.emit(run.id);
        }
      }
      return count;
    },
    // Every argument passed on: the epoch fences the write, and the usage lands with the final row.
    markRunning: (...args) => after(store.markRunning(...args), () => [args[0]]),
    markRetrying: (...args) => after(store.markRetrying(...args), () => [args[0]]),
    finishRun: (...args) => after(store.finishRun(...args), () => [args[0]]),
    cancelQueued: (runId, reason, now) =>
      after(store.cancelQueued(runId, reason, now), (done) => (done ? [runId] : [])),
    recordDelivery: (...args) => after(store.recordDelivery(...args), () => [args[0]]),
    addDelivery: (...args) => after(store.addDelivery(...args), () => [args[0]]),
  };
}
