/**
 * What Claude cost is written with the step that spent it (one transaction with the result), a
 * failed step keeps its cost, and what was spent outside any step lands with the final row —
 * through the real Claude integration against the loopback Messages API emulator.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRunner } from "../../src/run/runner.ts";
import { createIntegrations } from "../../src/integrations/index.ts";
import { NonRetryableError } from "../../src/errors.ts";
import type { SkillContext, SkillDefinition } from "../../src/types.ts";
import { z } from "../../src/index.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";
import { startAnthropicEmulator, type AnthropicEmulator } from "../emulators/anthropic.ts";

const API_KEY = "fake-anthropic-usage-0123456789";
let emulator: AnthropicEmulator;
beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: API_KEY });
});
afterAll(() => emulator.close());
let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  emulator.reset();
});

async function execute(run: (ctx: SkillContext) => ReturnType<SkillDefinition["run"]>) {
  const ledger = tempStore();
  cleanup = ledger.cleanup;
  const runner = createRunner({
    store: ledger.store,
    env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: emulator.url },
    dataDir: ledger.dir,
    log: silentLog,
    now: Date.now,
    adapters: new Map(),
    integrations: async (request) => createIntegrations(request),
    writePreview: () => {},
    alerts: () => [],
  });
  const skill = {
    name: "test",
    file: "test.ts",
    definition: { name: "test", description: "t", params: z.object({}), run },
  };
  const [claim] = await ledger.store.claimRuns(
    [{ job: "j", skill: "test", scheduledFor: Date.now(), trigger: "manual", overlap: "allow" }],
    { pid: process.pid, instance: "t" },
    Date.now(),
  );
  const runId = claim?.runId as number;
  const outcome = await runner.execute({
    runId,
    job: job({ id: "j", cron: "0 0 1 1 *" }),
    skill,
    scheduledFor: Date.now(),
    attempt: 1,
    dryRun: false,
    resumeOf: null,
    shutdown: new AbortController().signal,
  });
  return { outcome, run: await ledger.store.getRun(runId) };
}

describe("usage accounting", () => {
  it("lands on each step with its result, and outside steps with the final row; the run's total is their sum", async () => {
    const { outcome, run } = await execute(async (ctx) => {
      await ctx.step("two-calls", async () =>
        Promise.all([ctx.claude.text({ prompt: "one" }), ctx.claude.text({ prompt: "two" })]),
      );
      await ctx.step("one-call", async () => ctx.claude.text({ prompt: "three" }));
      await ctx.claude.text({ prompt: "outside any step" });
      return { key: "k", title: "t", markdown: "m" };
    });
    expect(outcome.status).toBe("succeeded");
    const steps = new Map(run?.steps.map((step) => [step.id, step]));
    const two = steps.get("two-calls");
    const one = steps.get("one-call");
    expect(two?.usage.inputTokens).toBeGreaterThan(0);
    expect(one?.usage.inputTokens).toBeGreaterThan(0);
    expect(two?.usage.outputTokens).toBe(2 * (one?.usage.outputTokens ?? 0));
    expect(run?.usage.outputTokens).toBe(4 * (one?.usage.outputTokens ?? 0));
    expect(run?.costUsd).toBeGreaterThan((two?.costUsd ?? 0) + (one?.costUsd ?? 0));
  });

  it("keeps the cost of a step that failed after calling Claude", async () => {
    const { outcome, run } = await execute(async (ctx) => {
      await ctx.step("fails", async () => {
        await ctx.claude.text({ prompt: "paid for" });
        throw new NonRetryableError("the answer did not fit");
      });
    });
    expect(outcome.status).toBe("failed");
    expect(run?.steps[0]).toMatchObject({ id: "fails", status: "failed" });
    expect(run?.steps[0]?.usage.outputTokens).toBeGreaterThan(0);
    expect(run?.usage).toEqual(run?.steps[0]?.usage);
    expect(run?.costUsd).toBeGreaterThan(0);
  });
});
