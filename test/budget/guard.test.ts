/**
 * Budgets through the real runner and Claude integration, against the loopback Messages API
 * emulator: a call that could pass a cap is never sent, the run fails at once with the budget's
 * name, a spent day skips the job's next runs, concurrent runs (also through two connections, as two
 * processes would) cannot spend past one cap together, and the 80% and spent alerts go out once.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createRunner } from "../../src/run/runner.ts";
import { createIntegrations } from "../../src/integrations/index.ts";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import type { RunStore } from "../../src/ledger/store.ts";
import type { Budget } from "../../src/config/schema.ts";
import type { DeliveryAdapter, Output, SkillContext, SkillDefinition } from "../../src/types.ts";
import { z } from "../../src/index.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";
import { startAnthropicEmulator, type AnthropicEmulator } from "../emulators/anthropic.ts";

const API_KEY = "fake-anthropic-budget-0123456789";
let emulator: AnthropicEmulator;
beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: API_KEY });
});
afterAll(() => emulator.close());
let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  emulator.reset();
});

/** Alerts as the alert targets receive them (an adapter of the delivery port, recording). */
function recordingAdapter(sent: Output[]): DeliveryAdapter {
  return { name: "stdout", deliver: async (output) => (sent.push(output), { to: "stdout" }), preview: async () => "" };
}

function setup(options: { jobBudget?: Budget; topBudget?: Budget; store?: RunStore; dir?: string } = {}) {
  let store = options.store;
  let dir = options.dir;
  if (!store || !dir) {
    const ledger = tempStore();
    cleanups.push(ledger.cleanup);
    store = ledger.store;
    dir = ledger.dir;
  }
  const alerts: Output[] = [];
  const runner = createRunner({
    store,
    env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: emulator.url },
    dataDir: dir,
    log: silentLog,
    now: Date.now,
    adapters: new Map([["stdout", recordingAdapter(alerts)]]),
    integrations: async (request) => createIntegrations(request),
    writePreview: () => {},
    alerts: () => [{ to: "stdout" }],
    budget: () => options.topBudget,
  });
  const theJob = job({
    id: "j",
    cron: "0 0 1 1 *",
    retries: 3,
    retryBackoffMs: 10,
    ...(options.jobBudget ? { budget: options.jobBudget } : {}),
  });
  async function execute(run: (ctx: SkillContext) => ReturnType<SkillDefinition["run"]>, dryRun = false) {
    const skill = {
      name: "test",
      file: "test.ts",
      definition: { name: "test", description: "t", params: z.object({}), run },
    };
    const now = Date.now();
    const [claim] = await (store as RunStore).claimRuns(
      [{ job: "j", skill: "test", scheduledFor: now, trigger: "manual", overlap: "allow" }],
      { pid: process.pid, instance: "t" },
      now,
    );
    const runId = claim?.runId as number;
    const outcome = await runner.execute({
      runId,
      job: theJob,
      skill,
      scheduledFor: now,
      attempt: 1,
      dryRun,
      resumeOf: null,
      shutdown: new AbortController().signal,
    });
    return { outcome, run: await (store as RunStore).getRun(runId) };
  }
  return { store, dir, alerts, execute };
}

const ask = (maxTokens: number) => async (ctx: SkillContext) => {
  await ctx.step("ask", () => ctx.claude.text({ prompt: "Say hi.", maxTokens }));
  return { key: "k", title: "t", markdown: "m" };
};

describe("budget guard", () => {
  it("never sends a call that could pass perRun; the run fails at once with the budget, the spend and the call's bound", async () => {
    const { execute } = setup({ jobBudget: { perRun: 0.001 } });
    // maxTokens 1000 at $10 per million output tokens: up to $0.01 before any input.
    const { outcome, run } = await execute(ask(1000));
    expect(emulator.requests).toHaveLength(0);
    expect(outcome.status).toBe("failed");
    expect(run?.attempt).toBe(1);
    expect(outcome.error).toMatch(
      /^budget perRun of job j \(\$0\.0010\): \$0\.00 spent in this run \(its retries and resumes included\), \$0\.0010 left; this Claude call could cost up to \$0\.01\d\d \(claude-sonnet-5-5: at most \d+ input tokens, maxTokens 1000\), so it was not made$/,
    );
  });

  it("lets a call that fits through and records its real cost per job, day and model", async () => {
    const { execute, store } = setup({ jobBudget: { perRun: 0.05, perDay: 1 } });
    const { outcome, run } = await execute(ask(1000));
    expect(outcome.status).toBe("succeeded");
    expect(emulator.requests).toHaveLength(1);
    const rows = await store.listSpend({});
    expect(rows).toEqual([
      {
        job: "j",
        day: new Date().toISOString().slice(0, 10),
        model: "claude-sonnet-5-5",
        calls: 1,
        usage: run?.usage,
        costUsd: run?.costUsd,
      },
    ]);
    // The reservation (the call's bound) is gone once the call settled.
    expect(await store.spendUse({ scope: "job", period: "day", limitUsd: 1 }, "j", Date.now())).toEqual({
      spentUsd: run?.costUsd,
      reservedUsd: 0,
    });
  });

  it("skips the job's next runs once a call was refused for its perDay, with the reset time, and sends the spent alert once", async () => {
    const { execute, alerts } = setup({ jobBudget: { perDay: 0.002 } });
    const first = await execute(ask(1000));
    expect(first.outcome.status).toBe("failed");
    expect(first.outcome.error).toMatch(
      /^budget perDay of job j \(\$0\.0020\): \$0\.00 spent in UTC day \d{4}-\d\d-\d\d/,
    );
    const tomorrow = new Date(
      Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1),
    ).toISOString();
    for (let i = 0; i < 2; i++) {
      const next = await execute(ask(10));
      expect(next.outcome).toEqual({ status: "skipped", reason: `budget: perDay, resets ${tomorrow}` });
      expect(next.run?.status).toBe("skipped");
      expect(next.run?.steps).toEqual([]);
    }
    expect(emulator.requests).toHaveLength(0);
    expect(alerts.map((a) => a.title).filter((t) => t.includes("budget"))).toEqual([
      "Sundial: budget perDay of job j spent",
    ]);
    expect(alerts[0]?.markdown).toContain(`until it resets ${tomorrow}`);
  });

  it("sends the 80% alert once, then the spent alert once, as spending reaches each level", async () => {
    // Each answer costs a known amount: 500 output tokens at $10 per million ($0.005, with a few input tokens).
    // Call 1 and 2 each reserve a bound of ~$0.0064 and fit; after them $0.01 is spent (80%), and call 3's bound does not fit.
    emulator.responder = () => "x".repeat(2000);
    const { execute, alerts, store } = setup({ topBudget: { perDay: 0.0125 } });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await execute(ask(600)));
    const spent = (await store.listSpend({})).reduce((sum, row) => sum + row.costUsd, 0);
    expect(spent).toBeLessThanOrEqual(0.0125);
    expect(alerts.map((a) => a.title).filter((t) => t.includes("budget"))).toEqual([
      "Sundial: budget top-level perDay (all jobs) at 80%",
      "Sundial: budget top-level perDay (all jobs) spent",
    ]);
    expect(results.map((r) => r.outcome.status)).toEqual(["succeeded", "succeeded", "failed", "skipped"]);
    expect(results[3]?.outcome.reason).toMatch(/^budget: top-level perDay, resets /);
    expect(emulator.requests).toHaveLength(2);
  });

  it("does not let two concurrent runs spend past one cap together (two connections to the ledger, like two processes)", async () => {
    const ledger = tempStore();
    cleanups.push(ledger.cleanup);
    const second = openSqliteStore(join(ledger.dir, "sundial.db"));
    cleanups.push(() => second.close());
    // Both calls are in flight together: each run's bound is ~$0.0105, the cap fits one of them.
    emulator.delayMs = 300;
    const a = setup({ jobBudget: { perDay: 0.015 }, store: ledger.store, dir: ledger.dir });
    const b = setup({ jobBudget: { perDay: 0.015 }, store: second, dir: ledger.dir });
    const outcomes = await Promise.all([a.execute(ask(1000)), b.execute(ask(1000))]);
    expect(outcomes.map((o) => o.outcome.status).sort()).toEqual(["failed", "succeeded"]);
    expect(outcomes.find((o) => o.outcome.status === "failed")?.outcome.error).toMatch(
      /\$0\.01\d\d reserved by calls in flight/,
    );
    expect(emulator.requests).toHaveLength(1);
  });

  it("counts dry runs: they spend real money", async () => {
    emulator.responder = () => "x".repeat(2000);
    const { execute, store } = setup({ jobBudget: { perDay: 0.008 } });
    const dry = await execute(ask(600), true);
    expect(dry.outcome.status).toBe("skipped");
    expect((await store.listSpend({}))[0]?.costUsd).toBeGreaterThan(0.005);
    // $0.005 spent leaves less than the next call's ~$0.0064 bound.
    const next = await execute(ask(600), true);
    expect(next.outcome.error).toMatch(/^budget perDay of job j/);
    expect(emulator.requests).toHaveLength(1);
  });

  it("covers retries of one run with perRun: what earlier attempts spent counts", async () => {
    emulator.responder = () => "x".repeat(1600);
    const { execute } = setup({ jobBudget: { perRun: 0.012 } });
    let attempts = 0;
    const { outcome } = await execute(async (ctx) => {
      attempts++;
      await ctx.claude.text({ prompt: "Say hi.", maxTokens: 500 });
      throw new Error("transient failure after paying");
    });
    // Each attempt spends ~$0.004 of $0.012 and needs a ~$0.0051 bound: the third attempt's call does not fit.
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/^budget perRun of job j/);
    expect(attempts).toBe(3);
    expect(emulator.requests).toHaveLength(2);
  });
});
