/**
 * @module cli/ledger-view — what `runs`, `show`, `costs` and `nodes` need: the environment, the
 * scrubber and the ledger, read-only. Not the app: its configuration, skills and zod schemas are
 * most of a cold command's start, and these commands read none of them. The logger (pino) is loaded
 * only for a PostgreSQL ledger, the one whose opening can warn.
 */
import type { Logger } from "pino";
import { databaseUrl, leaseMs, loadEnv, pathsFrom } from "../config/env.ts";
import { ledgerAccess, type LedgerAccess } from "../ledger/access.ts";
import { createGrowingScrubber, type Scrub } from "../util/redact.ts";

export interface LedgerView extends Pick<LedgerAccess, "readStore" | "openReadStore" | "close"> {
  scrub: Scrub;
}

export function openLedgerView(cwd: string = process.cwd()): LedgerView {
  const env = loadEnv(cwd);
  const paths = pathsFrom(env, cwd);
  const scrub = createGrowingScrubber(env);
  const url = databaseUrl(env);
  let log: Logger | undefined;
  const access = ledgerAccess({
    database: paths.database,
    url,
    leaseMs: leaseMs(env),
    scrub,
    warn: (message) => log?.warn(message),
  });
  return {
    scrub,
    readStore: access.readStore,
    async openReadStore() {
      if (url && !log) {
        const { createLogger } = await import("../log.ts");
        log = createLogger({ level: "warn", pretty: Boolean(process.stderr.isTTY), scrub });
      }
      return access.openReadStore();
    },
    close: access.close,
  };
}
