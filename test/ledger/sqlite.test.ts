/** The SQLite ledger passes the store contract (test/ledger/contract.ts); SQLite-only behaviour is in the other sqlite-*.test.ts files and lease.test.ts. */
import { join } from "node:path";
import { afterEach } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { tempStore } from "../helpers/ledger.ts";
import { runStoreContract } from "./contract.ts";

const dirs: ReturnType<typeof tempStore>[] = [];
afterEach(() => dirs.splice(0).forEach((ledger) => ledger.cleanup()));

runStoreContract("sqlite", async (options) => {
  const created = tempStore();
  dirs.push(created);
  created.store.close();
  const file = join(created.dir, "sundial.db");
  return { store: openSqliteStore(file, options), another: async () => openSqliteStore(file, options) };
});
