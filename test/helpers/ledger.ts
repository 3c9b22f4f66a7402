/** A throwaway SQLite ledger in a temporary directory, for tests of the scheduler and runner. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import type { ResolvedJob } from "../../src/config/types.ts";

export function tempStore() {
  const dir = mkdtempSync(join(tmpdir(), "sundial-ledger-"));
  const store = openSqliteStore(join(dir, "sundial.db"));
  return {
    dir,
    store,
    cleanup() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const silentLog = pino({ level: "silent" });

export function job(overrides: Partial<ResolvedJob> & { id: string; cron: string }): ResolvedJob {
  return {
    skill: "test",
    timezone: "UTC",
    enabled: true,
    disabledReason: null,
    params: {},
    deliver: [],
    model: undefined,
    timeoutMs: 60_000,
    retries: 0,
    retryBackoffMs: 1000,
    overlap: "skip",
    catchUp: "latest",
    catchUpWindowMs: 86_400_000,
    jitterMs: 0,
    ...overrides,
  };
}
