/**
 * The ledger over time: the file shrinks after retention (incremental auto-vacuum, switched on for
 * an existing file too), state of removed jobs and stale feed caches is pruned, and large step
 * results are kept only while a run may reuse them.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { KEEP_FINISHED_RESULT_BYTES, openSqliteStore } from "../../src/ledger/sqlite.ts";
import { migrate } from "../../src/ledger/sqlite-schema.ts";
import type { RunStore } from "../../src/ledger/store.ts";

const owner = { pid: process.pid, instance: "a" };
const DAY = 86_400_000;
const cleanups: (() => void)[] = [];
afterEach(() =>
  cleanups
    .splice(0)
    .reverse()
    .forEach((cleanup) => cleanup()),
);

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "sundial-growth-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "sundial.db");
}

function open(file: string, options: Parameters<typeof openSqliteStore>[1] = {}): RunStore {
  const store = openSqliteStore(file, options);
  let closed = false;
  cleanups.push(() => closed || store.close());
  return {
    ...store,
    close() {
      closed = true;
      store.close();
    },
  };
}

async function runWithBigStep(
  store: RunStore,
  scheduledFor: number,
  status: "interrupted" | "succeeded",
  bytes = 200_000,
): Promise<number> {
  const [run] = await store.claimRuns(
    [{ job: "j", skill: "s", scheduledFor, trigger: "schedule", overlap: "allow" }],
    owner,
    scheduledFor,
  );
  const id = run?.runId as number;
  await store.startStep(id, "image", scheduledFor);
  await store.finishStep(id, "image", { png: new Uint8Array(bytes).map((_, i) => (i * 7919) % 251) }, scheduledFor);
  await store.finishRun(id, { status }, scheduledFor + 1);
  return id;
}

const pageCount = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma("page_count", { simple: true }) as number;
  } finally {
    db.close();
  }
};

describe("ledger file size", () => {
  it("shrinks after old runs are pruned", async () => {
    const file = tempFile();
    const store = open(file);
    for (let i = 0; i < 10; i++) await runWithBigStep(store, 1_000 + i, "interrupted");
    const before = pageCount(file);
    expect(await store.prune(10 * DAY)).toBe(10);
    const after = pageCount(file);
    // 10 × 200 KB of bytes (base64) were freed and given back, not kept as free pages.
    expect(after).toBeLessThan(before / 10);
    store.close();
    expect(statSync(file).size).toBeLessThan(200_000);
  });

  it("switches a ledger made without auto-vacuum to incremental auto-vacuum when it opens", async () => {
    const file = tempFile();
    const old = new Database(file);
    old.pragma("journal_mode = WAL");
    migrate(old);
    expect(old.pragma("auto_vacuum", { simple: true })).toBe(0);
    old.close();
    const store = open(file);
    const check = new Database(file, { readonly: true });
    expect(check.pragma("auto_vacuum", { simple: true })).toBe(2);
    check.close();
    await runWithBigStep(store, 5, "interrupted");
    expect(await store.prune(DAY)).toBe(1);
  });
});

describe("job state", () => {
  it("of a job no longer configured is pruned once not written for the retention period; the others stay", async () => {
    const store = open(tempFile());
    await store.setState("removed-long-ago", "seen", [1, 2], 1_000);
    await store.setState("removed-recently", "seen", [3], 50 * DAY);
    await store.setState("kept", "seen", [4], 1_000);
    expect(await store.pruneState(["kept"], 10 * DAY)).toBe(1);
    expect((await store.loadState("removed-long-ago")).size).toBe(0);
    expect((await store.loadState("removed-recently")).get("seen")).toEqual([3]);
    expect((await store.loadState("kept")).get("seen")).toEqual([4]);
  });

  it("drops feed caches not refreshed within the retention period (a source no longer in the params)", async () => {
    const store = open(tempFile());
    await store.setState("digest", "http-cache:https://gone.example/feed.xml", { etag: "a", items: [] }, 1_000);
    await store.setState("digest", "http-cache:https://still.example/feed.xml", { etag: "b", items: [] }, 50 * DAY);
    await store.setState("digest", "digested", { x: "2026-01-01" }, 1_000);
    expect(await store.pruneState(["digest"], 10 * DAY)).toBe(1);
    expect([...(await store.loadState("digest")).keys()].sort()).toEqual([
      "digested",
      "http-cache:https://still.example/feed.xml",
    ]);
  });
});

describe("step results", () => {
  it("keep their large payloads while the run may be resumed, and drop them once it ended otherwise", async () => {
    const file = tempFile();
    const store = open(file);
    const interrupted = await runWithBigStep(store, 1, "interrupted");
    const succeeded = await runWithBigStep(store, 2, "succeeded");
    expect(((await store.getStep(interrupted, "image"))?.result as { png: Uint8Array }).png).toHaveLength(200_000);
    // Nobody reuses a finished run's steps; the large result is gone and a reuse would redo the step.
    expect(await store.getStep(succeeded, "image")).toBeNull();
    const db = new Database(file, { readonly: true });
    const stored = db.prepare("SELECT run_id, length(result) AS size FROM steps ORDER BY run_id").all() as {
      run_id: number;
      size: number;
    }[];
    db.close();
    expect(stored.find((row) => row.run_id === succeeded)?.size).toBeLessThanOrEqual(KEEP_FINISHED_RESULT_BYTES);
    expect(stored.find((row) => row.run_id === interrupted)?.size).toBeGreaterThan(200_000);
  });

  it("are kept once, by the resume, after an interrupted run is resumed", async () => {
    const file = tempFile();
    const store = open(file);
    const interrupted = await runWithBigStep(store, 1, "interrupted");
    const [resume] = await store.claimRuns(
      [{ job: "j", skill: "s", scheduledFor: 1, trigger: "resume", overlap: "allow", resumeOf: interrupted }],
      owner,
      2,
    );
    const resumeId = resume?.runId as number;
    expect(await store.copyFinishedSteps(interrupted, resumeId)).toBe(1);
    expect(((await store.getStep(resumeId, "image"))?.result as { png: Uint8Array }).png).toHaveLength(200_000);
    expect(await store.getStep(interrupted, "image")).toBeNull();
  });

  it("keeps small results of finished runs for inspection", async () => {
    const store = open(tempFile());
    const [run] = await store.claimRuns(
      [{ job: "j", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
      owner,
      1,
    );
    const id = run?.runId as number;
    await store.startStep(id, "greet", 1);
    await store.finishStep(id, "greet", "Hello", 2);
    await store.finishRun(id, { status: "succeeded" }, 3);
    expect((await store.getStep(id, "greet"))?.result).toBe("Hello");
  });

  it("over the size limit are not stored at all: the step is done again on resume", async () => {
    const file = tempFile();
    const store = open(file, { maxStepResultBytes: 100_000 });
    const id = await runWithBigStep(store, 1, "interrupted", 150_000);
    expect(await store.getStep(id, "image")).toBeNull();
    const db = new Database(file, { readonly: true });
    const row = db.prepare("SELECT status, length(result) AS size FROM steps WHERE run_id = ?").get(id) as {
      status: string;
      size: number;
    };
    db.close();
    expect(row).toMatchObject({ status: "succeeded" });
    expect(row.size).toBeLessThan(100);
  });
});
