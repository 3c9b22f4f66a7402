/**
 * The daemon lock under contention: a process that touches the lock file for a moment (as a racing
 * daemon does while it learns it lost) must not make the one that should win refuse as well, or two
 * daemons started at once can both exit 2 and nothing runs. A holder that keeps the lock is still
 * refused, after a bounded wait.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { acquireLock, LOCK_WAIT_MS, LockHeldError, type DaemonLock } from "../../src/daemon/lock.ts";
import { repoRoot } from "../helpers/workspace.ts";

let dir: string | undefined;
let held: DaemonLock | undefined;
afterEach(() => {
  held?.release();
  held = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Another process that holds a read (SHARED) lock on the lock database for `ms`, then lets go. */
function briefReader(lockFile: string, ms: number): Promise<{ ended: Promise<number | null> }> {
  const script = `
    const Database = require("better-sqlite3");
    const db = new Database(process.argv[1]);
    db.exec("BEGIN");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    process.stdout.write("reading\\n");
    setTimeout(() => { db.exec("COMMIT"); db.close(); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ["-e", script, lockFile, String(ms)], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ended = new Promise<number | null>((done) => child.once("close", done));
  return new Promise((ready, fail) => {
    child.stdout.setEncoding("utf8").once("data", () => ready({ ended }));
    child.once("error", fail);
  });
}

it("is taken once a process that only read the lock file for a moment lets go", { timeout: 30_000 }, async () => {
  dir = mkdtempSync(join(tmpdir(), "sundial-lock-"));
  // The lock database exists, as it does after any earlier start.
  acquireLock(dir).release();
  const reader = await briefReader(join(dir, "daemon.lock.db"), 150);
  held = acquireLock(dir);
  expect(held.file).toBe(join(dir, "daemon.lock"));
  expect(await reader.ended).toBe(0);
});

it("is refused, after a bounded wait, while another process keeps it", { timeout: 30_000 }, async () => {
  dir = mkdtempSync(join(tmpdir(), "sundial-lock-"));
  const holder = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "-e",
      `const { acquireLock } = await import(${JSON.stringify(join(repoRoot, "src/daemon/lock.ts"))});
       acquireLock(process.argv[1]); process.stdout.write("held\\n"); setInterval(() => {}, 1000);`,
      dir,
    ],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    await new Promise((ready) => holder.stdout.setEncoding("utf8").once("data", ready));
    const started = Date.now();
    expect(() => acquireLock(dir as string)).toThrow(LockHeldError);
    // It waited out contention first (the whole wait: the holder never lets go), but not for ever.
    expect(Date.now() - started).toBeGreaterThanOrEqual(LOCK_WAIT_MS - 50);
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    holder.kill("SIGKILL");
  }
});
