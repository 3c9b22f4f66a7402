/**
 * `sundial costs` as a process: the ledger's spend table read-only, grouped by day (oldest first),
 * job or model, `--since` in whole UTC days, one JSON document with --json; bad usage exits 2.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { createWorkspace } from "../helpers/workspace.ts";

const ws = createWorkspace({ schedules: { jobs: [] } });
const DAY = 86_400_000;
const day = (ago: number) => new Date(Date.now() - ago * DAY).toISOString().slice(0, 10);
const usage = (output: number) => ({ inputTokens: 100, outputTokens: output, cacheWriteTokens: 0, cacheReadTokens: 5 });

beforeAll(async () => {
  const store = openSqliteStore(ws.dbFile);
  const [claim] = await store.claimRuns(
    [{ job: "blog", skill: "s", scheduledFor: Date.now(), trigger: "manual", overlap: "allow" }],
    { pid: process.pid, instance: "t" },
    Date.now(),
  );
  const spend = (job: string, model: string, ago: number, costUsd: number, output: number) =>
    store.settleSpend(-1, {
      runId: claim?.runId as number,
      job,
      model,
      usage: usage(output),
      costUsd,
      now: Date.now() - ago * DAY,
    });
  await spend("blog", "claude-sonnet-5-5", 0, 0.5, 1000);
  await spend("blog", "claude-sonnet-5-5", 0, 0.25, 500);
  await spend("digest", "claude-haiku-5-5", 3, 0.125, 10);
  await spend("digest", "claude-haiku-5-5", 40, 2, 99);
  store.close();
});
afterAll(() => ws.cleanup());

type Report = { since: string; by: string; totalUsd: number; groups: Record<string, unknown>[] };

describe("sundial costs", () => {
  it("groups by UTC day within --since, oldest first", async () => {
    const result = await ws.runCli(["costs", "--by", "day", "--since", "7d", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report).toEqual({
      since: `${day(7)}T00:00:00.000Z`,
      by: "day",
      totalUsd: 0.875,
      groups: [
        { day: day(3), costUsd: 0.125, calls: 1, usage: usage(10) },
        {
          day: day(0),
          costUsd: 0.75,
          calls: 2,
          usage: { inputTokens: 200, outputTokens: 1500, cacheWriteTokens: 0, cacheReadTokens: 10 },
        },
      ],
    });
  });

  it("defaults to the last 30 days by job, largest first, as a table with a total", async () => {
    const result = await ws.runCli(["costs"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        "job     cost     calls  input  output  cache write  cache read",
        "blog    $0.7500  2      200    1500    0            10",
        "digest  $0.1250  1      100    10      0            5",
        "total   $0.8750",
        `since ${day(30)} (UTC days)`,
        "",
      ].join("\n"),
    );
    const all = JSON.parse((await ws.runCli(["costs", "--since", "90d", "--by", "model", "--json"])).stdout) as Report;
    expect(all.groups.map((g) => [g.model, g.costUsd])).toEqual([
      ["claude-haiku-5-5", 2.125],
      ["claude-sonnet-5-5", 0.75],
    ]);
  });

  it("exits 2 with a clear line for a bad --since", async () => {
    const result = await ws.runCli(["costs", "--since", "a week"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--since: "a week" is not a duration/);
  });
});
