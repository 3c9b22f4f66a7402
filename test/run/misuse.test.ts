/**
 * A programming mistake in a skill (`ctx.step("")`, `ctx.deliver` without a key, a step without a
 * function) fails the run at once with a `misuse` error: it is not retried with backoff, as a
 * plain TypeError would be.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createRunner } from "../../src/run/runner.ts";
import type { Integrations } from "../../src/ports/integrations.ts";
import type { SkillContext, SkillDefinition } from "../../src/types.ts";
import { errorCode, isRetryable, z } from "../../src/index.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const noIntegrations = async (): Promise<Integrations> => ({
  claude: {} as Integrations["claude"],
  sources: {} as Integrations["sources"],
  images: {
    available: false,
    generate: async () => ({ bytes: new Uint8Array(), mediaType: "image/png", extension: "png" }),
  },
});

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** Runs `run` once as a job with three retries an hour apart: a retried misuse would hang here. */
async function runWithRetries(run: (ctx: SkillContext) => ReturnType<SkillDefinition["run"]>) {
  const ledger = tempStore();
  cleanup = ledger.cleanup;
  let attempts = 0;
  let thrown: unknown;
  const theJob = job({ id: "j", cron: "0 0 1 1 *", retries: 3, retryBackoffMs: 3_600_000 });
  const runner = createRunner({
    store: ledger.store,
    env: {},
    dataDir: ledger.dir,
    log: silentLog,
    now: Date.now,
    adapters: new Map(),
    integrations: noIntegrations,
    writePreview: () => {},
    alerts: () => [],
  });
  const definition = {
    name: "test",
    description: "t",
    params: z.object({}),
    async run(ctx: SkillContext) {
      attempts++;
      try {
        return await run(ctx);
      } catch (error) {
        thrown = error;
        throw error;
      }
    },
  };
  const [claim] = await ledger.store.claimRuns(
    [
      {
        job: "j",
        skill: "test",
        scheduledFor: Date.now(),
        trigger: "manual",
        overlap: "allow",
        dryRun: false,
        resumeOf: null,
      },
    ],
    { pid: process.pid, instance: "t" },
    Date.now(),
  );
  const runId = claim?.runId as number;
  const outcome = await runner.execute({
    runId,
    job: theJob,
    skill: { name: "test", file: "test.ts", definition },
    scheduledFor: Date.now(),
    attempt: 1,
    dryRun: false,
    resumeOf: null,
    shutdown: AbortSignal.timeout(3_000),
  });
  return { outcome, attempts, thrown, row: await ledger.store.getRun(runId) };
}

describe("a skill's programming mistake", () => {
  it("ctx.step with an empty id fails the run at once", async () => {
    const result = await runWithRetries(async (ctx) => {
      await ctx.step("", async () => 1);
    });
    expect(result.outcome.status).toBe("failed");
    expect(result.outcome.error).toMatch(/ctx\.step\(id, fn\) needs a non-empty string id/);
    expect(result.attempts).toBe(1);
    expect(errorCode(result.thrown)).toBe("misuse");
    expect(isRetryable(result.thrown)).toBe(false);
    expect(result.row?.status).toBe("failed");
  });

  it("ctx.step without a function fails the run at once", async () => {
    const result = await runWithRetries(async (ctx) => {
      await ctx.step("fetch", undefined as unknown as () => number);
    });
    expect(result.outcome.status).toBe("failed");
    expect(result.outcome.error).toMatch(/ctx\.step\("fetch", fn\) needs a function/);
    expect(result.attempts).toBe(1);
    expect(errorCode(result.thrown)).toBe("misuse");
  });

  it("ctx.deliver without a key fails the run at once", async () => {
    const result = await runWithRetries(async (ctx) => {
      await ctx.deliver({ title: "no key", markdown: "x" });
    });
    expect(result.outcome.status).toBe("failed");
    expect(result.outcome.error).toMatch(/ctx\.deliver\(output\) needs output\.key/);
    expect(result.attempts).toBe(1);
    expect(errorCode(result.thrown)).toBe("misuse");
  });

  it("while an ordinary error is still retried (the same harness tells the two apart)", async () => {
    const result = await runWithRetries(async () => {
      throw new TypeError("a bug somewhere");
    });
    // The first retry waits an hour: the shutdown signal (3 s) ends it as interrupted, after one attempt.
    expect(result.outcome.status).toBe("interrupted");
    expect(result.attempts).toBe(1);
  });
});
