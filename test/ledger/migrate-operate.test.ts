/**
 * The operate migrations on a ledger written before them: `runs` is rebuilt to allow `cancelled`
 * without losing a run, a step or a delivery (dropping the old table must not cascade), old
 * deliveries read as succeeded, and pauses and per-target delivery rows work afterwards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { MIGRATIONS } from "../../src/ledger/sqlite-schema.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("operate migrations", () => {
  it("keeps every run, step and delivery of a first-version ledger and allows `cancelled`", async () => {
    dir = mkdtempSync(join(tmpdir(), "sundial-migrate-"));
    const file = join(dir, "sundial.db");
    const old = new Database(file);
    old.pragma("foreign_keys = ON");
    old.exec(MIGRATIONS[0] as string);
    old.pragma("user_version = 1");
    old
      .prepare(
        `INSERT INTO runs (id, job, skill, trigger, status, scheduled_for, started_at, finished_at, attempt) VALUES (1, 'a', 's', 'schedule', 'succeeded', 1000, 1000, 2000, 1)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO runs (id, job, skill, trigger, status, scheduled_for, resume_of) VALUES (2, 'a', 's', 'resume', 'queued', 1000, 1)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO steps (run_id, step_id, status, started_at, finished_at, result, seq) VALUES (1, 'fetch', 'succeeded', 1000, 1500, '"x"', 0)`,
      )
      .run();
    old
      .prepare(
        `INSERT INTO deliveries (run_id, seq, target, url) VALUES (1, 0, 'discord', 'https://chat.example.test/m/1')`,
      )
      .run();
    old.close();

    const store = openSqliteStore(file);
    try {
      const run = await store.getRun(1);
      expect(run?.steps.map((step) => step.id)).toEqual(["fetch"]);
      expect(run?.deliveries).toEqual([
        { to: "discord", url: "https://chat.example.test/m/1", status: "succeeded", error: null },
      ]);
      expect(run?.delivery).toBe("delivered");
      expect((await store.getRun(2))?.resumeOf).toBe(1);
      expect(await store.cancelQueued(2, "cancelled by an operator", 3000)).toBe(true);
      expect((await store.getRun(2))?.status).toBe("cancelled");

      await store.recordDelivery(1, "deliver:k:1:file", { to: "file", status: "failed", error: "disk full" });
      expect((await store.getRun(1))?.delivery).toBe("partial");
      await store.recordDelivery(1, "deliver:k:1:file", { to: "file", url: "file:///x", status: "succeeded" });
      expect((await store.getRun(1))?.deliveries.map((d) => d.status)).toEqual(["succeeded", "succeeded"]);

      await store.setPause("a", "first", 10);
      await store.setPause("a", "second", 20);
      expect(await store.pauses()).toEqual(new Map([["a", { reason: "second", pausedAt: 10 }]]));
      expect(await store.clearPause("a")).toBe(true);
      expect(await store.clearPause("a")).toBe(false);
    } finally {
      store.close();
    }
    const check = new Database(file, { readonly: true });
    expect(check.pragma("foreign_key_check")).toEqual([]);
    check.close();
  });
});
