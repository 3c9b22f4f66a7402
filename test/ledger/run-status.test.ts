/**
 * @module run-status.test — `RUN_STATUSES` is the one definition of a run's statuses: a new ledger's
 * `CHECK` admits exactly those (each can be written, nothing else can), and `sundial runs --status`
 * offers exactly those.
 */
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrate } from "../../src/ledger/sqlite-schema.ts";
import { RUN_STATUSES } from "../../src/types.ts";
import { createWorkspace } from "../helpers/workspace.ts";

describe("RUN_STATUSES", () => {
  it("is what a new ledger's runs table admits, and nothing else", () => {
    const db = new Database(":memory:");
    try {
      migrate(db);
      const insert = db.prepare(
        "INSERT INTO runs (job, skill, trigger, status, scheduled_for) VALUES ('j', 's', 'manual', ?, ?)",
      );
      RUN_STATUSES.forEach((status, index) => expect(() => insert.run(status, index)).not.toThrow());
      expect(() => insert.run("exploded", 99)).toThrow(/CHECK constraint failed/);
      const rows = db.prepare("SELECT status FROM runs ORDER BY id").all() as { status: string }[];
      expect(rows.map((row) => row.status)).toEqual([...RUN_STATUSES]);
    } finally {
      db.close();
    }
  });

  it("is what `sundial runs --status` accepts", async () => {
    const ws = createWorkspace();
    try {
      const result = await ws.runCli(["runs", "--status", "exploded"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`Allowed choices are ${RUN_STATUSES.join(", ")}.`);
    } finally {
      await ws.cleanup();
    }
  });
});
