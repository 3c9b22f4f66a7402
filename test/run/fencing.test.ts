/**
 * Fenced writes through the real runner: a run whose row was taken from it (lease expired, epoch
 * moved on) while a step was under way records nothing more — no step result, no state, no
 * delivery, and its final row stays the one the taker wrote — and the runner says so.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createRunner } from "../../src/run/runner.ts";
import type { DeliveryAdapter, Receipt, SkillContext } from "../../src/types.ts";
import type { Integrations } from "../../src/run/context.ts";
import { z } from "../../src/index.ts";
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

describe("a run that lost its lease", () => {
  it("writes nothing more and leaves the row as the taker recorded it", async () => {
    const ledger = tempStore();
    cleanup = ledger.cleanup;
    const { store } = ledger;
    const delivered: string[] = [];
    const adapter = {
      name: "stdout",
      requiredEnv: () => [],
      async deliver(output): Promise<Receipt> {
        delivered.push(output.title);
        return { to: "stdout" };
      },
      preview: async () => "",
    } as DeliveryAdapter;
    const runner = createRunner({
      store,
      env: {},
      dataDir: ledger.dir,
      log: silentLog,
      now: Date.now,
      adapters: new Map([["stdout", adapter]]),
      integrations: noIntegrations,
      writePreview: () => undefined,
      alerts: () => [],
    });
    const theJob = job({ id: "j", cron: "0 0 1 1 *", deliver: [{ to: "stdout" }], retries: 2, retryBackoffMs: 1 });
    const [claim] = await store.claimRuns(
      [{ job: "j", skill: "test", scheduledFor: Date.now(), trigger: "manual", overlap: "allow" }],
      { pid: process.pid, instance: "me" },
      Date.now(),
    );
    if (claim?.status !== "running") throw new Error("expected a running claim");
    const skill = {
      name: "test",
      file: "test.ts",
      definition: {
        name: "test",
        description: "t",
        params: z.object({}),
        async run(ctx: SkillContext) {
          await ctx.step("first", async () => {
            // Meanwhile another process found the lease expired and took the row.
            await store.interruptExpired({ pid: 1, instance: "daemon" }, Date.now() + 3_600_000, "lease expired");
            return "done";
          });
          await ctx.state.set("k", "v");
          return { title: "article", markdown: "body" };
        },
      },
    };
    const outcome = await runner.execute({
      runId: claim.runId,
      epoch: claim.epoch,
      job: theJob,
      skill,
      scheduledFor: Date.now(),
      attempt: 1,
      claimedRunning: true,
      dryRun: false,
      resumeOf: null,
      shutdown: new AbortController().signal,
    });
    expect(outcome).toEqual({ status: "interrupted", reason: "lease lost" });
    const row = await store.getRun(claim.runId);
    expect(row).toMatchObject({ status: "interrupted", reason: "lease expired", attempt: 1, deliveries: [] });
    // The step's result was refused: a resume will run it again rather than trust a stale holder.
    expect(await store.getStep(claim.runId, "first")).toBeNull();
    expect((await store.loadState("j")).size).toBe(0);
    expect(delivered).toEqual([]);
  });
});
