/**
 * @module inspect.test — `sundial runs` and `sundial show` read the ledger: filters, newest first,
 * one JSON document with --json, a step timeline in text; bad usage exits 2.
 */
import { afterAll, beforeAll, describe, it, expect } from "vitest";
import pLimit from "p-limit";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import type { RunRecord, StepRecord } from "../../src/types.ts";
import { createWorkspace, type CliResult } from "../helpers/workspace.ts";

const ws = createWorkspace();
const T0 = Date.parse("2026-03-01T09:00:00.000Z");
const owner = { pid: process.pid, instance: "inspect-test" };

/** Three finished runs: #1 alpha succeeded (two overlapping steps, one delivery), #2 beta failed, #3 alpha skipped. */
async function seedLedger(): Promise<void> {
  const store = openSqliteStore(ws.dbFile);
  try {
    const claim = async (job: string, at: number) => {
      const [result] = await store.claimRuns(
        [{ job, skill: "hello", scheduledFor: at, trigger: "schedule", overlap: "allow" }],
        owner,
        at,
      );
      if (!result || result.runId === null) throw new Error("claim failed");
      await store.markRunning(result.runId, 1, at);
      return result.runId;
    };
    const first = await claim("alpha", T0);
    await store.startStep(first, "fetch", T0 + 500);
    await store.startStep(first, "summarize", T0 + 1000);
    await store.finishStep(first, "fetch", { items: 3 }, T0 + 3500);
    await store.finishStep(first, "summarize", "a summary", T0 + 3500);
    await store.addDelivery(first, { to: "discord", url: "https://chat.example.test/channels/1/2/3" });
    await store.finishRun(first, { status: "succeeded" }, T0 + 4000);

    const second = await claim("beta", T0 + 60_000);
    await store.startStep(second, "fetch", T0 + 61_000);
    await store.failStep(second, "fetch", "feeds: https://example.org/feed answered 500", T0 + 62_000);
    await store.finishRun(
      second,
      { status: "failed", error: "feeds: https://example.org/feed answered 500" },
      T0 + 62_000,
    );

    const third = await claim("alpha", T0 + 120_000);
    await store.finishRun(third, { status: "skipped", reason: "nothing new" }, T0 + 121_000);
  } finally {
    store.close();
  }
}

const limit = pLimit(4);
let results: Record<string, Promise<CliResult>> = {};
beforeAll(async () => {
  await seedLedger();
  const cli = (...args: string[]) => limit(() => ws.runCli(args, {}, 150_000));
  results = {
    all: cli("runs", "--json"),
    alpha: cli("runs", "--job", "alpha", "--json"),
    failed: cli("runs", "--status", "failed", "--json"),
    newest: cli("runs", "--limit", "1", "--json"),
    table: cli("runs"),
    show: cli("show", "1"),
    showJson: cli("show", "1", "--json"),
    missing: cli("show", "999"),
    badLimit: cli("runs", "--limit", "abc"),
    unknownCommand: cli("frobnicate"),
  };
  // Let every process be queued before the tests await them one by one.
  await Promise.allSettled(Object.values(results));
}, 400_000);
afterAll(() => ws.cleanup());

async function json<T>(name: string): Promise<T> {
  const result = await results[name]!;
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}
const ids = (runs: RunRecord[]) => runs.map((run) => run.id);

describe("sundial runs", () => {
  it("--json gives every run newest first, with the documented fields", async () => {
    const { runs } = await json<{ runs: RunRecord[] }>("all");
    expect(ids(runs)).toEqual([3, 2, 1]);
    expect(runs[2]).toEqual({
      id: 1,
      job: "alpha",
      skill: "hello",
      trigger: "schedule",
      status: "succeeded",
      reason: null,
      scheduledFor: "2026-03-01T09:00:00.000Z",
      startedAt: "2026-03-01T09:00:00.000Z",
      finishedAt: "2026-03-01T09:00:04.000Z",
      attempt: 1,
      error: null,
      usage: { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 },
      costUsd: expect.anything(),
      deliveries: [
        { to: "discord", url: "https://chat.example.test/channels/1/2/3", status: "succeeded", error: null },
      ],
      delivery: "delivered",
      resumeOf: null,
      dryRun: false,
    });
    expect(runs[1]).toMatchObject({
      job: "beta",
      status: "failed",
      error: "feeds: https://example.org/feed answered 500",
    });
    expect(runs[0]).toMatchObject({ status: "skipped", reason: "nothing new" });
  });

  it("filters by --job and --status, and stops at --limit", async () => {
    expect(ids((await json<{ runs: RunRecord[] }>("alpha")).runs)).toEqual([3, 1]);
    expect(ids((await json<{ runs: RunRecord[] }>("failed")).runs)).toEqual([2]);
    expect(ids((await json<{ runs: RunRecord[] }>("newest")).runs)).toEqual([3]);
  });

  it("prints a table without --json", async () => {
    const result = await results.table!;
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^run\s+job\s+trigger\s+status\s+delivery\s+scheduled for/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 5))).toEqual([
      ["#3", "alpha", "schedule", "skipped", "2026-03-01T09:02:00.000Z"],
      ["#2", "beta", "schedule", "failed", "2026-03-01T09:01:00.000Z"],
      ["#1", "alpha", "schedule", "succeeded", "delivered"],
    ]);
  });

  it("exits 2 on --limit abc, saying what it wants", async () => {
    const result = await results.badLimit!;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--limit must be a positive whole number, not "abc"');
    expect(result.stdout).toBe("");
  });
});

describe("sundial show", () => {
  it("prints the run, its delivery and a step timeline with wall time beside the sum of step times", async () => {
    const result = await results.show!;
    expect(result.code, result.stderr).toBe(0);
    const text = result.stdout;
    expect(text).toMatch(/^run #1 · alpha \(hello\) · schedule/);
    expect(text).toMatch(/status\s+succeeded/);
    expect(text).toContain("delivered  discord https://chat.example.test/channels/1/2/3");
    expect(text).toMatch(/\n {2}fetch\s+│[ █]+│ succeeded 3\.00s\n/);
    expect(text).toMatch(/\n {2}summarize\s+│[ █]+│ succeeded 2\.50s\n/);
    // Wall time 4 s (09:00:00 to 09:00:04); the two overlapping steps add up to 5.5 s.
    expect(text).toContain("wall time 4.00s · sum of step times 5.50s (steps ran in parallel)");
  });

  it("--json gives the run with its steps, as one JSON document", async () => {
    const run = await json<RunRecord & { steps: StepRecord[] }>("showJson");
    expect(run).toMatchObject({
      id: 1,
      job: "alpha",
      status: "succeeded",
      deliveries: [
        { to: "discord", url: "https://chat.example.test/channels/1/2/3", status: "succeeded", error: null },
      ],
      delivery: "delivered",
    });
    expect(
      run.steps.map((step) => [step.id, step.status, step.startedAt, step.finishedAt, step.error, step.reusedFrom]),
    ).toEqual([
      ["fetch", "succeeded", "2026-03-01T09:00:00.500Z", "2026-03-01T09:00:03.500Z", null, null],
      ["summarize", "succeeded", "2026-03-01T09:00:01.000Z", "2026-03-01T09:00:03.500Z", null, null],
    ]);
  });

  it("exits 2 for a run that does not exist", async () => {
    const result = await results.missing!;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no run #999 in the ledger");
  });
});

describe("the command line", () => {
  it("exits 2 on an unknown command", async () => {
    const result = await results.unknownCommand!;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
