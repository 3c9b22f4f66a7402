/**
 * @module ledger/access — opening the ledger: SQLite (the file, opened on first use) or PostgreSQL
 * (SUNDIAL_DATABASE_URL, opened asynchronously; `pg` is imported only then), and the read-only
 * SQLite view of the inspecting commands, which never creates a ledger. Light on purpose: `runs`,
 * `show`, `costs` and `nodes` use it without the app (configuration, skills, zod, the logger).
 */
import type { Scrub } from "../util/redact.ts";
import type { RunStore } from "./store.ts";
import { openSqliteStore } from "./sqlite.ts";
import { ledgerExists } from "./sqlite-open.ts";

export interface LedgerAccess {
  /**
   * The ledger for writing. With SUNDIAL_DATABASE_URL (PostgreSQL) it must have been opened by
   * `openStore()` first (connecting is asynchronous); SQLite opens here on first use.
   */
  store(): RunStore;
  /** Opens the ledger (SQLite, or PostgreSQL with SUNDIAL_DATABASE_URL) once; what `store()` then returns. */
  openStore(): Promise<RunStore>;
  /** The ledger opened read-only, or null when there is none yet (nothing is created). SQLite only. */
  readStore(): RunStore | null;
  /** For the inspecting commands: `readStore()`, or the PostgreSQL ledger. */
  openReadStore(): Promise<RunStore | null>;
  close(): void;
}

export interface LedgerAccessOptions {
  /** The SQLite ledger's file. */
  database: string;
  /** SUNDIAL_DATABASE_URL: the ledger is PostgreSQL when set. */
  url: string | null;
  leaseMs: number;
  scrub: Scrub;
  warn: (message: string) => void;
  /** Wraps the writable store once opened (the app's change feed). */
  wrap?: (store: RunStore) => RunStore;
}

export function ledgerAccess(options: LedgerAccessOptions): LedgerAccess {
  const { database, url, leaseMs, scrub, warn, wrap = (opened) => opened } = options;
  let store: RunStore | null = null;
  let reader: RunStore | null = null;
  let opening: Promise<RunStore> | null = null;
  const access: LedgerAccess = {
    store() {
      if (store) return store;
      if (url)
        throw new Error("the PostgreSQL ledger is opened asynchronously: call app.openStore() before app.store()");
      store = wrap(openSqliteStore(database, { scrub, leaseMs, warn }));
      return store;
    },
    async openStore() {
      if (store) return store;
      if (!url) return access.store();
      opening ??= import("./postgres.ts")
        .then(({ openPostgresStore }) => openPostgresStore(url, { scrub, leaseMs, warn }))
        .then(wrap)
        .finally(() => (opening = null));
      const opened = await opening;
      // Two callers racing: both get the one store.
      store ??= opened;
      if (store !== opened) opened.close();
      return store;
    },
    async openReadStore() {
      return url ? access.openStore() : access.readStore();
    },
    readStore() {
      if (store) return store;
      if (!reader && ledgerExists(database)) reader = openSqliteStore(database, { scrub, readonly: true });
      return reader;
    },
    close() {
      store?.close();
      store = null;
      reader?.close();
      reader = null;
    },
  };
  return access;
}
