/**
 * The ledger under faults: another process holding the write lock (SQLITE_BUSY) must not block the
 * event loop and must not lose the write; a full disk (a tiny max_page_count) must not lose a run's
 * final row; a step's usage lands with its result or not at all.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import type { RunStore } from "../../src/ledger/store.ts";

const owner = { pid: process.pid, instance: "a" };
const usage = { inputTokens: 100, outputTokens: 50, cacheWriteTokens: 0, cacheReadTokens: 0 };
const cleanups: (() => void)[] = [];
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((cleanup) => cleanup()),
);

function ledger(warn?: (message: string) => void): { file: string; store: RunStore; db: () => Database.Database } {
  const dir = mkdtempSync(join(tmpdir(), "sundial-faults-"));
  const file = join(dir, "sundial.db");
  let connection: Database.Database | undefined;
  const store = openSqliteStore(file, { warn, configure: (db) => (connection = db) });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  return { file, store, db: () => connection as Database.Database };
}

async function claim(store: RunStore, scheduledFor = 1): Promise<number> {
  const [run] = await store.claimRuns(
    [{ job: "j", skill: "s", scheduledFor, trigger: "schedule", overlap: "allow" }],
    owner,
    scheduledFor,
  );
  return run?.runId as number;
}

/** Counts how often a 5 ms timer fires while `work` is pending: 0 means the event loop was blocked. */
async function ticksDuring<T>(work: () => Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const value = await work();
    return { value, ticks };
  } finally {
    clearInterval(timer);
  }
}

describe("a ledger another process is writing to (SQLITE_BUSY)", () => {
  it("waits for the lock on timers, without blocking the event loop, and then writes the final row", async () => {
    const { file, store } = ledger();
    const runId = await claim(store);
    const other = new Database(file);
    cleanups.push(() => other.close());
    other.exec("BEGIN IMMEDIATE");
    const release = setTimeout(() => other.exec("COMMIT"), 400);
    const started = Date.now();
    const { ticks } = await ticksDuring(() => store.finishRun(runId, { status: "succeeded" }, 10));
    clearTimeout(release);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    // A busy wait inside the driver would have frozen every timer for the whole 400 ms.
    expect(ticks).toBeGreaterThan(20);
    expect((await store.getRun(runId))?.status).toBe("succeeded");
  });

  it("also retries ordinary writes (state, steps) until the lock is released", async () => {
    const { file, store } = ledger();
    const runId = await claim(store);
    const other = new Database(file);
    cleanups.push(() => other.close());
    other.exec("BEGIN IMMEDIATE");
    setTimeout(() => other.exec("COMMIT"), 200);
    await Promise.all([store.setState("j", "k", { v: 1 }, 5), store.startStep(runId, "s1", 5)]);
    expect((await store.loadState("j")).get("k")).toEqual({ v: 1 });
  });
});

describe("a full disk (max_page_count reached)", () => {
  it("keeps retrying a run's final row until space is freed, then it lands", async () => {
    const warnings: string[] = [];
    const { store, db } = ledger((message) => warnings.push(message));
    const runId = await claim(store);
    const pages = db().pragma("page_count", { simple: true }) as number;
    db().pragma(`max_page_count = ${pages}`);
    // A long error needs new pages: the write fails with SQLITE_FULL.
    const error = "x".repeat(64 * 1024);
    let landed = false;
    const finishing = store.finishRun(runId, { status: "failed", error }, 10).then(() => (landed = true));
    await new Promise((done) => setTimeout(done, 500));
    expect(landed).toBe(false);
    expect((await store.getRun(runId))?.status).toBe("running");
    db().pragma("max_page_count = 1000000");
    await finishing;
    const run = await store.getRun(runId);
    expect(run?.status).toBe("failed");
    expect(run?.error).toHaveLength(error.length);
    // The operator is told what is wrong and what to do.
    expect(warnings[0]).toMatch(/finishRun.*database or disk is full.*free disk space/);
  });

  it("fails an ordinary write at once with SQLITE_FULL (the run then fails; nothing crashes)", async () => {
    const { store, db } = ledger();
    const runId = await claim(store);
    await store.startStep(runId, "big", 2);
    db().pragma(`max_page_count = ${db().pragma("page_count", { simple: true }) as number}`);
    await expect(
      store.finishStep(runId, "big", "y".repeat(64 * 1024), 3, undefined, { usage, costUsd: 0.5 }),
    ).rejects.toMatchObject({ code: "SQLITE_FULL" });
    // Neither the result nor its usage was written: the step will be done again, and paid once.
    expect(await store.getStep(runId, "big")).toBeNull();
    const run = await store.getRun(runId);
    expect(run?.costUsd).toBe(0);
    expect(run?.steps[0]?.usage.inputTokens).toBe(0);
  });
});

describe("a step's usage", () => {
  it("is written in the same transaction as the step's result", async () => {
    const { store } = ledger();
    const runId = await claim(store);
    await store.startStep(runId, "ask", 2);
    await store.finishStep(runId, "ask", { answer: 42 }, 3, undefined, { usage, costUsd: 0.25 });
    const run = await store.getRun(runId);
    expect(run?.usage).toEqual(usage);
    expect(run?.costUsd).toBeCloseTo(0.25);
    expect(run?.steps[0]).toMatchObject({ id: "ask", status: "succeeded", usage, costUsd: 0.25 });
    // Usage spent outside any step is written with the final row.
    await store.finishRun(runId, { status: "succeeded" }, 4, undefined, { usage, costUsd: 0.5 });
    expect((await store.getRun(runId))?.costUsd).toBeCloseTo(0.75);
  });
});
