/**
 * Opening the ledger: a corrupt file is named with the way to recover and exits 2 (no restart loop
 * under systemd); the inspecting commands open it read-only and never create it.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { LedgerOpenError } from "../../src/ledger/sqlite-open.ts";
import { tempStore } from "../helpers/ledger.ts";
import { createWorkspace, type Workspace } from "../helpers/workspace.ts";

const owner = { pid: process.pid, instance: "a" };
let ws: Workspace | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  cleanups
    .splice(0)
    .reverse()
    .forEach((cleanup) => cleanup());
  await ws?.cleanup();
  ws = undefined;
});

const CORRUPT =
  /sundial\.db is not a SQLite database or is corrupt .*move it aside \(mv ".*sundial\.db" ".*sundial\.db\.corrupt-\d{4}-\d{2}-\d{2}".*a new, empty ledger is created — or restore the file from a backup/;

describe("a corrupt ledger", () => {
  it("is an error that names the file and the recovery", () => {
    const ledger = tempStore();
    cleanups.push(() => ledger.cleanup());
    mkdirSync(join(ledger.dir, "broken"));
    const file = join(ledger.dir, "broken", "sundial.db");
    writeFileSync(file, "this is not a database, just text long enough to be read as a header ".repeat(100));
    let caught: unknown;
    try {
      openSqliteStore(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LedgerOpenError);
    expect((caught as Error).message).toMatch(CORRUPT);
  });

  it("stops `sundial start` with that message and exit code 2, and `runs` too", { timeout: 60_000 }, async () => {
    ws = createWorkspace({ schedules: { jobs: [] } });
    writeFileSync(ws.dbFile, "garbage ".repeat(1000));
    const daemon = ws.spawn();
    const exit = await daemon.exited;
    expect(exit.code).toBe(2);
    expect(daemon.lines.join("\n")).toMatch(CORRUPT);
    const runs = await ws.runCli(["runs"]);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toMatch(CORRUPT);
  });
});

describe("the inspecting commands", () => {
  it(
    "`runs` and `show` on a workspace with no data directory say so and create nothing",
    { timeout: 60_000 },
    async () => {
      ws = createWorkspace({ schedules: { jobs: [] }, createDataDir: false });
      const runs = await ws.runCli(["runs"]);
      expect(runs).toMatchObject({ code: 0, stdout: "no runs recorded yet\n" });
      const json = await ws.runCli(["runs", "--json"]);
      expect(JSON.parse(json.stdout)).toEqual({ runs: [] });
      const show = await ws.runCli(["show", "1"]);
      expect(show.code).toBe(2);
      expect(show.stderr).toContain("no run #1");
      expect(existsSync(ws.dataDir)).toBe(false);
    },
  );

  it("read the ledger while another process holds its write lock, without writing to it", async () => {
    const ledger = tempStore();
    cleanups.push(() => ledger.cleanup());
    const file = join(ledger.dir, "sundial.db");
    const [run] = await ledger.store.claimRuns(
      [{ job: "j", skill: "s", scheduledFor: 1, trigger: "schedule", overlap: "allow" }],
      owner,
      1,
    );
    const writer = new Database(file);
    writer.exec("BEGIN IMMEDIATE");
    cleanups.push(() => writer.close());
    const reader = openSqliteStore(file, { readonly: true });
    cleanups.push(() => reader.close());
    expect((await reader.listRuns({})).map((r) => r.id)).toEqual([run?.runId]);
    await expect(reader.setState("j", "k", 1, 2)).rejects.toMatchObject({ code: "SQLITE_READONLY" });
    writer.exec("COMMIT");
  });

  it("never create a ledger that does not exist", () => {
    const ledger = tempStore();
    cleanups.push(() => ledger.cleanup());
    const dir = join(ledger.dir, "empty");
    mkdirSync(dir);
    expect(() => openSqliteStore(join(dir, "sundial.db"), { readonly: true })).toThrow(LedgerOpenError);
    expect(existsSync(join(dir, "sundial.db"))).toBe(false);
  });
});
