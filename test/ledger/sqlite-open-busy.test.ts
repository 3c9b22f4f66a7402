/** Opening (and migrating) a ledger while another process holds its write lock waits for it, briefly. */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterEach, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";

const require = createRequire(import.meta.url);
let dir: string | undefined;
afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

it("opens a new ledger while another connection holds the write lock for a moment", async () => {
  dir = mkdtempSync(join(tmpdir(), "sundial-open-busy-"));
  const file = join(dir, "sundial.db");
  // Another thread (as another process would) locks the empty file for 300 ms.
  const worker = new Worker(
    `const Database = require(${JSON.stringify(require.resolve("better-sqlite3"))});
     const db = new Database(${JSON.stringify(file)});
     db.pragma("journal_mode = WAL");
     db.exec("BEGIN IMMEDIATE");
     require("node:worker_threads").parentPort.postMessage("locked");
     setTimeout(() => { db.exec("COMMIT"); db.close(); }, 300);`,
    { eval: true },
  );
  await new Promise((done) => worker.once("message", done));
  const store = openSqliteStore(file);
  expect(await store.listRuns({})).toEqual([]);
  store.close();
  await worker.terminate();
});
