/**
 * A run's delivery status is its own: each target succeeded or failed with its error, and a run
 * whose work was done but whose delivery failed says so in the ledger (`delivery`) and in the alert,
 * which lists every target with its outcome and the command that sends the failed ones again.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRunner } from "../../src/run/runner.ts";
import type { DeliveryAdapter, Receipt, SkillContext, SkillDefinition } from "../../src/types.ts";
import type { Integrations } from "../../src/run/context.ts";
import { fileDelivery } from "../../src/deliver/file.ts";
import { NonRetryableError, z } from "../../src/index.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const noIntegrations = async (): Promise<Integrations> => ({
  claude: {} as Integrations["claude"],
  sources: {} as Integrations["sources"],
  images: {
    available: false,
    generate: async () => ({ bytes: new Uint8Array(), mediaType: "image/png", extension: "png" }),
  },
});

/** A chat channel that refuses every post, as Discord does for a bot without access. */
const refusing: DeliveryAdapter = {
  name: "discord",
  requiredEnv: () => [],
  async deliver(): Promise<Receipt> {
    throw new NonRetryableError("discord: 403 Missing Access (channel 42)");
  },
  preview: async () => "",
} as DeliveryAdapter;

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function harness(run: (ctx: SkillContext) => ReturnType<SkillDefinition["run"]>) {
  const ledger = tempStore();
  cleanup = ledger.cleanup;
  const runner = createRunner({
    store: ledger.store,
    env: {},
    dataDir: ledger.dir,
    log: silentLog,
    now: Date.now,
    adapters: new Map<string, DeliveryAdapter>([
      ["file", fileDelivery() as DeliveryAdapter],
      ["discord", refusing],
    ]),
    integrations: noIntegrations,
    writePreview: () => undefined,
    alerts: () => [{ to: "file", path: "alerts/{key}.md" }],
  });
  const theJob = job({
    id: "digest",
    cron: "0 0 1 1 *",
    deliver: [
      { to: "file", path: "out/{key}.md" },
      { to: "discord", channel: "42" },
    ],
  });
  const skill = {
    name: "test",
    file: "test.ts",
    definition: { name: "test", description: "t", params: z.object({}), run },
  };
  async function execute() {
    const [claim] = await ledger.store.claimRuns(
      [{ job: "digest", skill: "test", scheduledFor: Date.now(), trigger: "manual", overlap: "allow" }],
      { pid: process.pid, instance: "t" },
      Date.now(),
    );
    if (claim?.status !== "running") throw new Error("expected a running claim");
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
    return { runId: claim.runId, outcome, run: await ledger.store.getRun(claim.runId) };
  }
  const alerts = () => {
    try {
      const dir = join(ledger.dir, "deliveries", "alerts");
      return readdirSync(dir).map((name) => readFileSync(join(dir, name), "utf8"));
    } catch {
      return [];
    }
  };
  return { execute, alerts };
}

describe("a run whose work was done but a delivery failed", () => {
  it("records each target with its own status and error, delivery partial, and the alert says it could not deliver", async () => {
    const h = harness(async () => ({ key: "today", title: "Digest", markdown: "body" }));
    const { runId, outcome, run } = await h.execute();
    expect(outcome.status).toBe("failed");
    expect(run).toMatchObject({
      status: "failed",
      delivery: "partial",
      deliveries: [
        { to: "file", status: "succeeded", url: expect.stringMatching(/^file:/), error: null },
        { to: "discord", status: "failed", url: null, error: expect.stringContaining("403 Missing Access") },
      ],
    });
    const [alert, ...more] = h.alerts();
    expect(more).toEqual([]);
    expect(alert).toContain("Sundial: job digest could not deliver");
    expect(alert).toContain("**Delivery: partial** (1 of 2 delivered)");
    expect(alert).toMatch(/- file: delivered file:/);
    expect(alert).toContain("- discord: **failed**");
    expect(alert).toContain("discord: discord: 403 Missing Access (channel 42)");
    expect(alert).toContain(`npx sundial redeliver ${runId}`);
  });

  it("is announced even when the skill caught the delivery's error and succeeded, once while it lasts", async () => {
    const h = harness(async (ctx) => {
      await ctx.deliver({ key: "today", title: "Digest", markdown: "body" }).catch(() => undefined);
      return undefined;
    });
    const first = await h.execute();
    expect(first.run).toMatchObject({ status: "succeeded", delivery: "partial" });
    expect(h.alerts()).toHaveLength(1);
    expect(h.alerts()[0]).toContain("Sundial: job digest succeeded, but delivery was partial");
    expect(h.alerts()[0]).toContain("- discord: **failed**");
    const second = await h.execute();
    expect(second.run).toMatchObject({ status: "succeeded", delivery: "partial" });
    expect(h.alerts()).toHaveLength(1);
  });
});
