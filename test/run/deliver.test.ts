/**
 * The runner's deliveries with `ctx.deliver`: an output goes out while the run is still working,
 * once per key (also across a resumed run), outputs of parallel branches never interleave in a
 * one-at-a-time adapter (a chat channel) but do overlap elsewhere, and a run that returns nothing
 * after delivering succeeded.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createRunner } from "../../src/run/runner.ts";
import type {
  DeliveryAdapter,
  DeliveryTarget,
  Output,
  Receipt,
  SkillContext,
  SkillDefinition,
} from "../../src/types.ts";
import type { Integrations } from "../../src/run/context.ts";
import { z } from "../../src/index.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";
import { discordDelivery } from "../../src/deliver/discord.ts";
import { startDiscordEmulator, WEBHOOK_ID, type DiscordEmulator } from "../emulators/discord.ts";

type Event = { adapter: string; key: string; phase: "start" | "end"; at: number };

/** An adapter that takes `ms` per delivery and logs when each starts and ends. */
function slowAdapter(name: "discord" | "github-pr", ms: number, events: Event[], oneAtATime: boolean): DeliveryAdapter {
  return {
    name,
    oneAtATime,
    requiredEnv: () => [],
    async deliver(output: Output): Promise<Receipt> {
      events.push({ adapter: name, key: output.key as string, phase: "start", at: performance.now() });
      await sleep(ms);
      events.push({ adapter: name, key: output.key as string, phase: "end", at: performance.now() });
      return { to: name, url: `https://example.test/${name}/${output.key}` };
    },
    preview: async (output) => `${name}: ${output.title}`,
  } as DeliveryAdapter;
}

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

function harness(
  run: (ctx: SkillContext) => ReturnType<SkillDefinition["run"]>,
  options: { oneAtATime?: boolean; previews?: string[] } = {},
) {
  const ledger = tempStore();
  cleanup = ledger.cleanup;
  const events: Event[] = [];
  const adapters = new Map<string, DeliveryAdapter>([
    ["github-pr", slowAdapter("github-pr", 60, events, false)],
    ["discord", slowAdapter("discord", 30, events, options.oneAtATime ?? true)],
  ]);
  const deliver: DeliveryTarget[] = [
    { to: "github-pr", repo: "acme/blog", base: "main", dir: "posts", labels: [], draft: false },
    { to: "discord", channel: "1" },
  ];
  const theJob = job({ id: "j", cron: "0 0 1 1 *", deliver });
  const runner = createRunner({
    store: ledger.store,
    env: {},
    dataDir: ledger.dir,
    log: silentLog,
    now: Date.now,
    adapters,
    integrations: noIntegrations,
    writePreview: (text) => options.previews?.push(text),
    alerts: () => [],
  });
  const skill = {
    name: "test",
    file: "test.ts",
    definition: { name: "test", description: "t", params: z.object({}), run },
  };
  async function execute(extra: { resumeOf?: number; dryRun?: boolean } = {}) {
    const [claim] = await ledger.store.claimRuns(
      [
        {
          job: "j",
          skill: "test",
          scheduledFor: Date.now(),
          trigger: extra.resumeOf ? "resume" : "manual",
          overlap: "allow",
          dryRun: extra.dryRun ?? false,
          resumeOf: extra.resumeOf ?? null,
        },
      ],
      { pid: process.pid, instance: "t" },
      Date.now(),
    );
    const runId = claim?.runId as number;
    const outcome = await runner.execute({
      runId,
      job: theJob,
      skill,
      scheduledFor: Date.now(),
      attempt: 1,
      dryRun: extra.dryRun ?? false,
      resumeOf: extra.resumeOf ?? null,
      shutdown: new AbortController().signal,
    });
    return { runId, outcome };
  }
  return { ledger, events, execute };
}

const article = (key: string): Output => ({ key, title: `Article ${key}`, markdown: `Body of ${key}` });

describe("ctx.deliver", () => {
  it("delivers an output while the run is still working, to every target in order, and the run succeeds returning nothing", async () => {
    let receiptsSeen: Receipt[] = [];
    let deliveredBeforeEnd = 0;
    const h = harness(async (ctx) => {
      receiptsSeen = await ctx.deliver({ ...article("a"), onDelivered: (receipts) => void (receiptsSeen = receipts) });
      deliveredBeforeEnd = (await h.ledger.store.getRun(ctx.run.id))?.deliveries.length ?? 0;
      await sleep(20);
    });
    const { runId, outcome } = await h.execute();
    expect(outcome.status).toBe("succeeded");
    expect(deliveredBeforeEnd).toBe(2);
    expect(receiptsSeen.map((r) => r.url)).toEqual([
      "https://example.test/github-pr/a",
      "https://example.test/discord/a",
    ]);
    expect(h.events.filter((e) => e.phase === "start").map((e) => e.adapter)).toEqual(["github-pr", "discord"]);
    expect((await h.ledger.store.getRun(runId))?.deliveries).toHaveLength(2);
  });

  it("needs output.key, with a message that says why", async () => {
    const h = harness(async (ctx) => {
      await ctx.deliver({ title: "no key", markdown: "x" });
    });
    const { outcome } = await h.execute();
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/ctx\.deliver\(output\) needs output\.key: a stable id/);
  });

  it("delivers a key once per run, even when asked twice at the same time or returned afterwards", async () => {
    let onDelivered = 0;
    const h = harness(async (ctx) => {
      const output = { ...article("same"), onDelivered: () => void onDelivered++ };
      await Promise.all([ctx.deliver(output), ctx.deliver(output)]);
      return output;
    });
    const { outcome } = await h.execute();
    expect(outcome.status).toBe("succeeded");
    expect(h.events.filter((e) => e.phase === "start")).toHaveLength(2);
    expect(onDelivered).toBe(1);
  });

  it("never sends again in a resumed run what the interrupted run delivered", async () => {
    const h = harness(async (ctx) => {
      await ctx.deliver(article("first"));
      if (ctx.run.attempt === 1 && !resumed) throw new Error("crash after the first delivery");
      await ctx.deliver(article("second"));
    });
    let resumed = false;
    const { runId } = await h.execute();
    resumed = true;
    const again = await h.execute({ resumeOf: runId });
    expect(again.outcome.status).toBe("succeeded");
    const starts = h.events.filter((e) => e.phase === "start").map((e) => `${e.adapter}:${e.key}`);
    expect(starts).toEqual(["github-pr:first", "discord:first", "github-pr:second", "discord:second"]);
  });

  it("overlaps pull requests of parallel branches but sends one output at a time to a chat channel", async () => {
    const keys = ["a", "b", "c", "d"];
    const h = harness(async (ctx) => {
      await ctx.parallel(keys, (key) => ctx.deliver(article(key)), { concurrency: 4 });
    });
    await h.execute();
    const spans = (adapter: string) =>
      keys.map((key) => {
        const of = h.events.filter((e) => e.adapter === adapter && e.key === key);
        return [of.find((e) => e.phase === "start")?.at ?? 0, of.find((e) => e.phase === "end")?.at ?? 0] as const;
      });
    const overlapping = (list: (readonly [number, number])[]) =>
      list.some(([s1, e1], i) => list.some(([s2], j) => i !== j && s2 > s1 && s2 < e1));
    expect(overlapping(spans("github-pr"))).toBe(true);
    expect(overlapping(spans("discord"))).toBe(false);
  });

  it("lets a chat channel take outputs together when the adapter does not ask for one at a time", async () => {
    const h = harness(
      async (ctx) => {
        await ctx.parallel(["a", "b"], (key) => ctx.deliver(article(key)), { concurrency: 2 });
      },
      { oneAtATime: false },
    );
    await h.execute();
    const discordStarts = h.events.filter((e) => e.adapter === "discord").map((e) => e.phase);
    expect(discordStarts.slice(0, 2)).toEqual(["start", "start"]);
  });

  it("previews instead of delivering in a dry run, and calls no onDelivered", async () => {
    const previews: string[] = [];
    let onDelivered = 0;
    const h = harness(
      async (ctx) => {
        const receipts = await ctx.deliver({ ...article("dry"), onDelivered: () => void onDelivered++ });
        expect(receipts.map((r) => r.url)).toEqual(["(dry run: github-pr)", "(dry run: discord)"]);
      },
      { previews },
    );
    const { outcome } = await h.execute({ dryRun: true });
    expect(outcome).toMatchObject({ status: "skipped", reason: "dry run: 1 output(s) previewed, nothing delivered" });
    expect(previews.join("")).toContain("github-pr: Article dry");
    expect(h.events).toEqual([]);
    expect(onDelivered).toBe(0);
  });

  it("records a run that returned nothing and delivered nothing as skipped", async () => {
    const h = harness(async () => undefined);
    expect((await h.execute()).outcome).toEqual({ status: "skipped", reason: "the skill returned no output" });
  });
});

describe("ctx.deliver to Discord (the loopback emulator, through the real adapter)", () => {
  let emulator: DiscordEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  async function discordHarness(run: (ctx: SkillContext) => ReturnType<SkillDefinition["run"]>) {
    emulator = await startDiscordEmulator();
    const ledger = tempStore();
    cleanup = ledger.cleanup;
    const theJob = job({
      id: "d",
      cron: "0 0 1 1 *",
      retries: 1,
      retryBackoffMs: 10,
      deliver: [{ to: "discord", webhookEnv: "DIGEST_WEBHOOK" }],
    });
    const runner = createRunner({
      store: ledger.store,
      env: { DISCORD_API_URL: emulator.url, DIGEST_WEBHOOK: emulator.webhookUrl() },
      dataDir: ledger.dir,
      log: silentLog,
      now: Date.now,
      adapters: new Map<string, DeliveryAdapter>([
        ["discord", discordDelivery({ retries: 0, timeoutMs: 2000 }) as DeliveryAdapter],
      ]),
      integrations: noIntegrations,
      writePreview: () => undefined,
      alerts: () => [],
    });
    const skill = {
      name: "test",
      file: "test.ts",
      definition: { name: "test", description: "t", params: z.object({}), run },
    };
    const [claim] = await ledger.store.claimRuns(
      [
        {
          job: "d",
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
      skill,
      scheduledFor: Date.now(),
      attempt: 1,
      dryRun: false,
      resumeOf: null,
      shutdown: new AbortController().signal,
    });
    return { ledger, runId, outcome, emulator };
  }

  const long: Output = {
    key: "long",
    title: "Weekly digest",
    summary: "What changed.",
    markdown: `Opening paragraph.\n\n${"closing words ".repeat(200)}`,
  };

  it("posts every message of the output to Discord and records the delivery", async () => {
    const h = await discordHarness(async (ctx) => {
      await ctx.deliver(long);
    });
    expect(h.outcome.status).toBe("succeeded");
    const posted = h.emulator.messages;
    expect(posted.length).toBeGreaterThanOrEqual(3);
    expect(posted.every((message) => message.webhookId === WEBHOOK_ID)).toBe(true);
    expect(posted[0]?.embeds[0]).toMatchObject({ title: "Weekly digest", description: "What changed." });
    expect(posted.map((message) => message.content).join("\n")).toContain("Opening paragraph.");
    const run = await h.ledger.store.getRun(h.runId);
    expect(run?.deliveries).toEqual([
      { to: "discord", url: expect.stringContaining(`/${posted[0]?.id}`), status: "succeeded", error: null },
    ]);
  });

  it("retries a delivery whose second message failed without posting the first again: each message once", async () => {
    let posts = 0;
    const h = await discordHarness(async (ctx) => {
      if (!emulator) throw new Error("no emulator");
      emulator.beforePost = () => (++posts === 2 ? { status: 500 } : undefined);
      await ctx.deliver(long);
    });
    expect(h.outcome.status).toBe("succeeded");
    const run = await h.ledger.store.getRun(h.runId);
    expect(run?.attempt).toBe(2);
    const posted = h.emulator.messages;
    expect(posts).toBe(posted.length + 1);
    expect(new Set(posted.map((message) => JSON.stringify([message.content, message.embeds]))).size).toBe(
      posted.length,
    );
    expect(run?.steps.filter((step) => step.status === "succeeded").map((step) => step.id)).toEqual(
      expect.arrayContaining([
        "deliver:long:0:discord",
        ...posted.map((_, i) => `deliver:long:0:discord:message-${i + 1}`),
      ]),
    );
  });
});
