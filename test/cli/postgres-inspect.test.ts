/**
 * The inspecting commands as processes on a PostgreSQL ledger (SUNDIAL_DATABASE_URL): `runs`, `show`
 * and `costs` read it, never a SQLite file beside it, and create no SQLite ledger.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore } from "../../src/ledger/postgres.ts";
import { startPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { createWorkspace } from "../helpers/workspace.ts";

const ws = createWorkspace({ schedules: { jobs: [] } });
let server: TestPostgres;
let url: string;
let runId: number;
const usage = { inputTokens: 100, outputTokens: 40, cacheWriteTokens: 0, cacheReadTokens: 5 };

beforeAll(async () => {
  server = await startPostgres();
  url = await server.freshDatabase();
  const store = await openPostgresStore(url);
  try {
    const now = Date.now();
    const [claim] = await store.claimRuns(
      [{ job: "blog", skill: "blog-autopilot", scheduledFor: now, trigger: "manual", overlap: "allow" }],
      { pid: process.pid, instance: "t" },
      now,
    );
    if (claim?.status !== "running") throw new Error(`the claim was not granted: ${JSON.stringify(claim)}`);
    runId = claim.runId;
    await store.markRunning(runId, 1, now, claim.epoch);
    await store.settleSpend(-1, { runId, job: "blog", model: "claude-sonnet-5-5", usage, costUsd: 0.5, now });
    await store.finishRun(runId, { status: "succeeded" }, now + 10, claim.epoch);
  } finally {
    await store.close();
  }
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await ws.cleanup();
});

describe("on a PostgreSQL ledger", () => {
  it("runs and show read its runs", async () => {
    const runs = await ws.runCli(["runs", "--json"], { SUNDIAL_DATABASE_URL: url });
    expect(runs.code, runs.stderr).toBe(0);
    expect((JSON.parse(runs.stdout) as { runs: { id: number; status: string }[] }).runs).toEqual([
      expect.objectContaining({ id: runId, job: "blog", status: "succeeded" }),
    ]);
    const show = await ws.runCli(["show", String(runId), "--json"], { SUNDIAL_DATABASE_URL: url });
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: runId, job: "blog", status: "succeeded" });
  });

  it("costs reads its spend table", async () => {
    const result = await ws.runCli(["costs", "--by", "job", "--json"], { SUNDIAL_DATABASE_URL: url });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      by: "job",
      totalUsd: 0.5,
      groups: [{ job: "blog", costUsd: 0.5, calls: 1, usage }],
    });
    expect(existsSync(ws.dbFile), "a SQLite ledger was created").toBe(false);
  });
});
