/**
 * One row per slot with several processes at once: four processes, each with its own connection,
 * claim the same slots of two jobs at the same instant, as scheduled and as catch-up runs mixed.
 * Every slot ends with exactly one row, and every claim was answered (no process failed on a busy
 * database). This fails if catch-up runs are left out of the unique index, or if the claim runs in
 * a deferred transaction (its read-then-write upgrade fails under concurrent writers).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { repoRoot } from "../helpers/workspace.ts";

const worker = join(repoRoot, "test", "helpers", "claim-worker.ts");
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function runWorker(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", worker, ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("close", (code) => done({ code, stdout, stderr }));
  });
}

describe("one row per slot across processes", () => {
  it(
    "gives every slot exactly one row when four processes claim the same slots at once, scheduled and catch-up mixed",
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "sundial-claims-"));
      dirs.push(dir);
      const file = join(dir, "sundial.db");
      openSqliteStore(file).close(); // the schema exists before the race starts
      const slots = 300;
      const workers = [0, 1, 2, 3].map((index) => runWorker([file, String(index), "0", String(slots)]));
      // The go is given once every process has loaded and opened the ledger: they then start together.
      const deadline = Date.now() + 90_000;
      while (![0, 1, 2, 3].every((index) => existsSync(`${file}.ready-${index}`)) && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 20));
      }
      writeFileSync(`${file}.go`, "");
      const results = await Promise.all(workers);
      for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
      const reports = results.map(
        (result) => JSON.parse(result.stdout) as { won: number; started: number; ended: number },
      );
      // The claims really overlapped in time: every process was still claiming when the last one
      // began. (Which process wins the slots is up to SQLite's write lock: a process retrying a busy
      // lock on a timer can lose every slot to one that holds it in turn, so wins are not compared.)
      const lastStart = Math.max(...reports.map((report) => report.started));
      expect(reports.filter((report) => report.ended > lastStart)).toHaveLength(4);
      expect(reports.reduce((sum, report) => sum + report.won, 0)).toBe(2 * slots);

      const db = new Database(file, { readonly: true });
      try {
        const perSlot = db
          .prepare(`SELECT job, scheduled_for, COUNT(*) AS n FROM runs GROUP BY job, scheduled_for`)
          .all() as { job: string; scheduled_for: number; n: number }[];
        expect(perSlot).toHaveLength(2 * slots);
        expect(perSlot.filter((slot) => slot.n !== 1)).toEqual([]);
        expect((db.prepare(`SELECT COUNT(*) AS n FROM runs`).get() as { n: number }).n).toBe(2 * slots);
        expect((db.prepare(`SELECT COUNT(DISTINCT trigger) AS n FROM runs`).get() as { n: number }).n).toBe(2);
      } finally {
        db.close();
      }
    },
  );
});
