/**
 * Leases and fencing in the SQLite ledger: a claimed row carries a lease and an epoch; a row whose
 * lease expired is interrupted with a new epoch, after which every write of its old holder is
 * refused; renewal keeps a row; and migration 2 keeps every row, step, delivery and index.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { MIGRATIONS } from "../../src/ledger/sqlite-schema.ts";
import { LeaseLostError } from "../../src/ledger/store.ts";
import { tempStore } from "../helpers/ledger.ts";

const holder = { pid: process.pid, instance: "holder" };
const daemon = { pid: process.pid, instance: "daemon" };
const ledgers: ReturnType<typeof tempStore>[] = [];
afterEach(() => ledgers.splice(0).forEach((ledger) => ledger.cleanup()));
function ledger() {
  const created = tempStore();
  ledgers.push(created);
  return created;
}
const usage = { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0 };

describe("leases", () => {
  it("interrupts a row whose lease expired, moves its epoch on and refuses every later write of its old holder", async () => {
    const { store } = ledger();
    const [claim] = await store.claimRuns(
      [{ job: "j", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
      holder,
      1_000,
    );
    if (claim?.status !== "running") throw new Error("expected a running claim");
    const { runId, epoch } = claim;
    await store.startStep(runId, "a", 1_001, epoch);
    await store.finishStep(runId, "a", "done", 1_002, epoch);

    // 30 s default lease: not yet expired at 30 s, expired after.
    expect(await store.interruptExpired(daemon, 31_000, "lease")).toEqual([]);
    const taken = await store.interruptExpired(daemon, 31_001, "lease expired");
    expect(taken.map((run) => run.id)).toEqual([runId]);
    expect(await store.getRun(runId)).toMatchObject({ status: "interrupted", reason: "lease expired" });

    const refused = [
      store.startStep(runId, "b", 2, epoch),
      store.finishStep(runId, "a", "again", 2, epoch),
      store.failStep(runId, "a", "no", 2, epoch),
      store.addUsage(runId, "a", usage, 1, epoch),
      store.addDelivery(runId, { to: "stdout" }, epoch),
      store.setState("j", "k", "v", 2, { runId, epoch }),
      store.markRunning(runId, 2, 2, epoch),
      store.markRetrying(runId, 2, "boom", epoch),
      store.finishRun(runId, { status: "succeeded" }, 2, epoch),
    ];
    for (const write of refused) await expect(write).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.finishRun(runId, { status: "succeeded" }, 2, epoch)).rejects.toThrow(
      `run #${runId} is no longer held by this process`,
    );
    const after = await store.getRun(runId);
    expect(after).toMatchObject({ status: "interrupted", costUsd: 0, deliveries: [] });
    expect(after?.steps.map((step) => [step.id, step.status])).toEqual([["a", "succeeded"]]);
    expect((await store.loadState("j")).has("k")).toBe(false);
    // The run is resumable once, like one found at start-up.
    expect((await store.resumableRuns(0)).map((run) => run.id)).toEqual([runId]);
  });

  it("keeps a row its holder renews, never takes the caller's own rows, and takes a provably gone holder's at once", async () => {
    const { store } = ledger();
    const [a] = await store.claimRuns(
      [{ job: "a", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
      holder,
      1_000,
    );
    const [b] = await store.claimRuns(
      [{ job: "b", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
      daemon,
      1_000,
    );
    expect(await store.renewLeases(holder, 25_000)).toBe(1);
    // a: renewed to 55 s; b: the caller's own row, never taken from itself.
    expect(await store.interruptExpired(daemon, 40_000, "lease")).toEqual([]);
    expect((await store.interruptExpired(daemon, 55_001, "lease")).map((run) => run.id)).toEqual([a?.runId]);

    const [c] = await store.claimRuns(
      [{ job: "c", skill: "s", scheduledFor: 1_000, trigger: "schedule", overlap: "skip" }],
      { pid: 999_999, instance: "dead" },
      60_000,
    );
    expect(
      (await store.interruptExpired(daemon, 60_001, "gone", (owner) => owner.instance === "dead")).map((run) => run.id),
    ).toEqual([c?.runId]);
    expect((await store.getRun(b?.runId as number))?.status).toBe("running");
  });

  it("uses the lease length it was opened with (SUNDIAL_LEASE)", async () => {
    const { dir } = ledger();
    const store = openSqliteStore(join(dir, "short.db"), { leaseMs: 1_000 });
    try {
      const [claim] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 0, trigger: "manual", overlap: "allow" }],
        holder,
        10_000,
      );
      expect(await store.interruptExpired(daemon, 11_000, "lease")).toEqual([]);
      expect((await store.interruptExpired(daemon, 11_001, "lease")).map((run) => run.id)).toEqual([claim?.runId]);
    } finally {
      store.close();
    }
  });
});

describe("migration 2", () => {
  it("rebuilds runs with leases and 'cancelled', keeping rows, steps, deliveries and every index", async () => {
    const { dir } = ledger();
    const file = join(dir, "old.db");
    const old = new Database(file);
    old.pragma("foreign_keys = ON");
    old.exec(MIGRATIONS[0] as string);
    old.pragma("user_version = 1");
    old.exec(`INSERT INTO runs (id, job, skill, trigger, status, scheduled_for, started_at, owner_pid, owner_instance) VALUES
      (1, 'j', 's', 'schedule', 'succeeded', 1000, 1000, 1, 'x'), (2, 'j', 's', 'schedule', 'running', 2000, 2000, 1, 'x');
      INSERT INTO steps (run_id, step_id, status, started_at, seq, result) VALUES (1, 'a', 'succeeded', 1000, 0, '"kept"');
      INSERT INTO deliveries (run_id, seq, target, url) VALUES (1, 0, 'stdout', 'u');`);
    const indexes = (db: Database.Database) =>
      db
        .prepare(
          `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL ORDER BY name`,
        )
        .all() as { name: string; sql: string }[];
    const before = indexes(old);
    old.close();

    const store = openSqliteStore(file);
    try {
      const run = await store.getRun(1);
      expect(run).toMatchObject({ status: "succeeded", deliveries: [{ to: "stdout", url: "u" }] });
      expect(run?.steps.map((step) => step.id)).toEqual(["a"]);
      expect((await store.getStep(1, "a"))?.result).toBe("kept");
      // A row older than leases has none: it counts as expired (its holder ran code without leases).
      expect((await store.interruptExpired(daemon, 3000, "lease")).map((r) => r.id)).toEqual([2]);
      await store.finishRun(1, { status: "cancelled", reason: "by an operator" }, 4000);
      expect((await store.getRun(1))?.status).toBe("cancelled");
      const [dup] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1000, trigger: "catchup", overlap: "allow" }],
        holder,
        5000,
      );
      expect(dup?.status).toBe("duplicate");
    } finally {
      store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      const after = indexes(db);
      // Indexes added by migration 2 (runs_lease) and a later one (runs_by_job_status) come on top.
      const added = ["runs_lease", "runs_by_job_status"];
      expect(after.filter((index) => !added.includes(index.name))).toEqual(before);
      expect(after.map((index) => index.name)).toEqual(expect.arrayContaining(added));
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
      expect(db.pragma("foreign_key_check")).toEqual([]);
    } finally {
      db.close();
    }
  });
});
