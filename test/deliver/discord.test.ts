/** Discord delivery: the shared contract for channel and webhook, limits, mentions, links, images, retries and errors. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discordDefinition, discordDelivery, type DiscordTarget } from "../../src/deliver/discord.ts";
import {
  buildDiscordMessages,
  DISCORD_LIMITS,
  embedSize,
  packEmbeds,
  splitMarkdown,
} from "../../src/deliver/discord-messages.ts";
import { ServiceError } from "../../src/errors.ts";
import type { Env, Output } from "../../src/types.ts";
import {
  CHANNEL_ID,
  DM_CHANNEL_ID,
  FORBIDDEN_CHANNEL_ID,
  GUILD_ID,
  startDiscordEmulator,
  WEBHOOK_ID,
  WEBHOOK_TOKEN,
  type DiscordEmulator,
} from "../emulators/discord.ts";
import { deliveryContext, describeDeliveryContract, sampleOutput, type ContractSetup } from "./contract.ts";

const dataDir = mkdtempSync(join(tmpdir(), "sundial-discord-"));
const fastOptions = { maxRateLimitWaitMs: 2000, timeoutMs: 2000 };
const channel: DiscordTarget = { to: "discord", channel: CHANNEL_ID };
const webhook: DiscordTarget = { to: "discord", webhookEnv: "DIGEST_WEBHOOK" };
const envFor = (emulator: DiscordEmulator): Env => ({
  DISCORD_API_URL: emulator.url,
  DISCORD_TOKEN: emulator.token,
  DIGEST_WEBHOOK: emulator.webhookUrl(),
});
const fenceLines = (text: string) => text.split("\n").filter((line) => line.startsWith("```")).length;
const textLines = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.trim() && !line.startsWith("```"))
    .map((line) => line.trimEnd());

async function contractSetup(target: DiscordTarget): Promise<ContractSetup<DiscordTarget>> {
  const emulator = await startDiscordEmulator();
  const env = envFor(emulator);
  const failing = target.channel
    ? { target: { to: "discord" as const, channel: FORBIDDEN_CHANNEL_ID }, env }
    : { target, env: { ...env, DIGEST_WEBHOOK: emulator.webhookUrl({ id: WEBHOOK_ID, token: "revoked" }) } };
  const sentCount = () => emulator.requests.filter((request) => request.method === "POST").length;
  return {
    adapter: discordDelivery(fastOptions),
    target,
    env,
    dataDir,
    failing,
    sentCount,
    close: () => emulator.close(),
  };
}

describeDeliveryContract("discord", () => contractSetup(channel));
describeDeliveryContract("discord-webhook", () => contractSetup(webhook));

describe("discord delivery", () => {
  let emulator: DiscordEmulator;
  let env: Env;
  const adapter = discordDelivery(fastOptions);
  const ctx = (extra: Partial<ReturnType<typeof deliveryContext>> = {}) => ({
    ...deliveryContext({ env, dataDir }),
    ...extra,
  });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail("expected a failure"),
      (error: unknown) => error as ServiceError,
    );
  const output = (markdown: string, extra: Partial<Output> = {}): Output => ({
    title: "Weekly digest",
    summary: "What changed.",
    markdown,
    key: markdown.slice(0, 40),
    ...extra,
  });
  beforeAll(async () => {
    emulator = await startDiscordEmulator();
    env = envFor(emulator);
  });
  afterAll(() => emulator.close());

  it("splits a 9,000-character output with a code block into ordered messages within 2,000 characters, fences balanced", async () => {
    const prose = (from: number) =>
      Array.from({ length: 9 }, (_, i) => `Paragraph ${from + i}: ${"lorem ipsum dolor sit amet ".repeat(12)}`).join(
        "\n\n",
      );
    const code = [
      "```ts",
      ...Array.from({ length: 60 }, (_, i) => `const value${i} = compute(${i}); // line ${i} of the example`),
      "```",
    ].join("\n");
    const markdown = `${prose(0)}\n\n${code}\n\n${prose(9)}`;
    expect(markdown.length).toBeGreaterThan(9000);
    const before = emulator.messages.length;
    const receipt = await adapter.deliver(output(markdown), channel, ctx());
    const sent = emulator.messages.slice(before);
    expect(receipt.detail?.messageIds).toEqual(sent.map((message) => message.id));
    const body = sent.slice(1);
    expect(body.length).toBeGreaterThanOrEqual(5);
    for (const message of sent) {
      expect(message.content.length).toBeLessThanOrEqual(2000);
      expect(fenceLines(message.content) % 2).toBe(0);
      expect(message.allowed_mentions).toEqual({ parse: [] });
    }
    expect(body.filter((message) => message.content.startsWith("```ts\n")).length).toBeGreaterThanOrEqual(1);
    expect(textLines(body.map((message) => message.content).join("\n"))).toEqual(textLines(markdown));
  });

  it("pings nobody whatever the model wrote, where Discord's default would ping everyone", async () => {
    const text = "@everyone @here <@123456789012345678> <@&876543210987654321> read this";
    await adapter.deliver(output(text), channel, ctx());
    expect(emulator.messages.at(-1)?.pings).toEqual({ everyone: false, users: [], roles: [] });
    const raw = await fetch(`${emulator.url}/v10/channels/${CHANNEL_ID}/messages`, {
      method: "POST",
      headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: text }),
    });
    expect(((await raw.json()) as { mention_everyone: boolean }).mention_everyone).toBe(true);
  });

  it("links the pull request opened just before and returns a jump URL", async () => {
    const pr = "https://github.com/owner/blog/pull/7";
    const receipt = await adapter.deliver(output("Body."), channel, ctx({ earlier: [{ to: "github-pr", url: pr }] }));
    const first = emulator.messages.at(-2);
    expect(first?.content).toContain(`Pull request: ${pr}`);
    expect(first?.embeds[0]).toMatchObject({ title: "Weekly digest", url: pr, description: "What changed." });
    expect(receipt).toMatchObject({
      to: "discord",
      url: `https://discord.com/channels/${GUILD_ID}/${CHANNEL_ID}/${first?.id}`,
      detail: { channelId: CHANNEL_ID },
    });
    const dm = await adapter.deliver(output("To a DM."), { to: "discord", channel: DM_CHANNEL_ID }, ctx());
    expect(dm.url).toMatch(new RegExp(`^https://discord.com/channels/@me/${DM_CHANNEL_ID}/\\d+$`));
    const hook = await adapter.deliver(output("Through the webhook."), webhook, ctx());
    expect(hook.url).toBe(`https://discord.com/channels/${GUILD_ID}/${CHANNEL_ID}/${emulator.messages.at(-2)?.id}`);
    expect(emulator.messages.at(-1)?.webhookId).toBe(WEBHOOK_ID);
  });

  it("uploads images as attachments of the first message and lists the files it did not attach", async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const files = [
      { path: "images/hero.png", content: png },
      { path: "post.md", content: "# Post" },
    ];
    const receipt = await adapter.deliver(output("With a picture.", { files }), webhook, ctx());
    const [first, second] = emulator.messages.slice(-2);
    expect(first?.attachments.map((a) => [a.filename, [...a.data]])).toEqual([["hero.png", [...png]]]);
    expect(second?.attachments).toEqual([]);
    expect(receipt.detail?.notAttached).toEqual([{ path: "post.md", reason: expect.stringContaining("not an image") }]);
  });

  it("never posts a retried message twice to a channel (nonce enforced)", async () => {
    const first = await adapter.deliver(output("Posted once."), channel, ctx());
    const count = emulator.messages.length;
    const again = await adapter.deliver(output("Posted once."), channel, ctx());
    expect(again.detail?.messageIds).toEqual(first.detail?.messageIds);
    expect(emulator.messages.length).toBe(count);
  });

  it("records each message as it is posted: a second message that fails is retried without re-posting the first (webhook: no nonce)", async () => {
    const steps = new Map<string, unknown>();
    const step = async <T>(id: string, fn: () => Promise<T>): Promise<T> => {
      if (steps.has(id)) return steps.get(id) as T;
      const result = await fn();
      steps.set(id, result);
      return result;
    };
    const text = `First part.\n\n${"second part words ".repeat(150)}`;
    let posts = 0;
    emulator.beforePost = () => (++posts === 2 ? { status: 500 } : undefined);
    const before = emulator.messages.length;
    const once = discordDelivery({ ...fastOptions, retries: 0 });
    try {
      const error = await failure(once.deliver(output(text), webhook, ctx({ step })));
      expect(error).toMatchObject({ status: 500, retryable: true });
      expect(emulator.messages.length - before).toBe(1);
      const receipt = await once.deliver(output(text), webhook, ctx({ step }));
      const sent = emulator.messages.slice(before);
      expect(posts).toBe(sent.length + 1); // every message once, and the failed try of the second
      expect(sent.map((message) => message.id)).toEqual(receipt.detail?.messageIds);
      expect(new Set(sent.map((message) => JSON.stringify([message.content, message.embeds]))).size).toBe(sent.length);
      expect([...steps.keys()]).toEqual(sent.map((_, i) => `message-${i + 1}`));
    } finally {
      emulator.beforePost = null;
    }
  });

  it("waits out a 429 as Discord says, then posts", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 1, method: "POST" });
    const started = Date.now();
    const before = emulator.requests.length;
    await adapter.deliver(output("After a rate limit."), channel, ctx());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.requests.length - before).toBe(4); // guild look-up, 429, retry, second message
  });

  it("reads the channel's guild once per run attempt: later outputs of the attempt post without that request", async () => {
    const gets = () => emulator.requests.filter((request) => request.method === "GET").length;
    const attempt = ctx();
    const before = gets();
    const receipts = await Promise.all(
      ["One.", "Two.", "Three."].map((text) => adapter.deliver(output(text), channel, { ...attempt, earlier: [] })),
    );
    expect(gets() - before).toBe(1);
    // Each receipt still links its message in the guild.
    for (const receipt of receipts) expect(receipt.url).toMatch(/^https:\/\/discord\.com\/channels\/\d+\//);
    // Another attempt (another signal) reads it again.
    await adapter.deliver(output("Four."), channel, ctx());
    expect(gets() - before).toBe(2);
  });

  it("fails fast, retryable, when a rate limit is longer than allowed or keeps coming", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 1 });
    const started = Date.now();
    const long = await failure(
      discordDelivery({ maxRateLimitWaitMs: 300 }).deliver(output("Too long a wait."), channel, ctx()),
    );
    expect(Date.now() - started).toBeLessThan(900);
    expect(long).toMatchObject({
      status: 429,
      retryable: true,
      message: expect.stringMatching(/^Discord: 429 .*longer than the 0.3s allowed/),
    });
    emulator.failNext(3, { status: 429, retryAfter: 0 });
    const before = emulator.requests.length;
    const many = await failure(
      discordDelivery({ rateLimitRetries: 2 }).deliver(output("Rate limited again and again."), channel, ctx()),
    );
    expect(many).toMatchObject({ status: 429, retryable: true, message: expect.stringContaining("after 2 waits") });
    expect(emulator.requests.length - before).toBe(3);
  });

  it("stops waiting when the run's signal aborts", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 1 });
    const before = emulator.requests.length;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("timed out")), 150);
    const started = Date.now();
    await expect(
      adapter.deliver(output("Aborted while waiting."), channel, ctx({ signal: controller.signal })),
    ).rejects.toThrow("timed out");
    expect(Date.now() - started).toBeLessThan(800);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the SDK's own sleep ends, and sends nothing
    expect(emulator.requests.length - before).toBe(1); // only the 429: nothing was sent after the abort
  });

  it("retries a 5xx and gives up on a lasting one as retryable", async () => {
    emulator.failNext(1, { status: 502 });
    await expect(adapter.deliver(output("After a 502."), channel, ctx())).resolves.toMatchObject({ to: "discord" });
    emulator.failNext(4, { status: 503 });
    const before = emulator.requests.length;
    const error = await failure(discordDelivery({ retries: 3 }).deliver(output("During an outage."), channel, ctx()));
    expect(error).toMatchObject({
      status: 503,
      retryable: true,
      message: expect.stringMatching(/^Discord: 503 .*4 attempts/),
    });
    expect(emulator.requests.length - before).toBe(4);
  });

  it("gives up on a server that does not answer in time, as retryable", async () => {
    emulator.failNext(2, { delayMs: 400 });
    const error = await failure(
      discordDelivery({ timeoutMs: 150, retries: 1 }).deliver(output("Slow server."), webhook, ctx()),
    );
    expect(error).toMatchObject({
      retryable: true,
      message: "Discord: no answer within 150 ms, 2 attempts (webhook from DIGEST_WEBHOOK)",
    });
    emulator.failNext(1, { status: 200, body: JSON.stringify({ message: "not a message" }), method: "POST" });
    const odd = await failure(adapter.deliver(output("Odd answer."), channel, ctx()));
    expect(odd.message).toMatch(/^Discord: answered 200 with a body that is not a message object/);
  });

  it("fails a 403 at once, naming Discord, the cause and the channel", async () => {
    const before = emulator.requests.length;
    const error = await failure(
      adapter.deliver(output("Forbidden."), { to: "discord", channel: FORBIDDEN_CHANNEL_ID }, ctx()),
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      status: 403,
      retryable: false,
      message: `Discord: 403 Missing Access (channel ${FORBIDDEN_CHANNEL_ID})`,
    });
    expect(emulator.requests.length - before).toBe(1);
  });

  it("fails clearly on a malformed JSON answer, without retrying a post that may have landed", async () => {
    emulator.failNext(1, { status: 200, body: "{not json", method: "POST" });
    const error = await failure(adapter.deliver(output("Malformed answer."), channel, ctx()));
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/^Discord: answered 200 with malformed JSON.*may have been posted/),
    });
  });

  it("never puts a token or webhook URL in an error", async () => {
    const secrets = [emulator.token, "wrong-token-value", WEBHOOK_TOKEN, "revoked-token", emulator.webhookUrl()];
    const wrongHook = { ...env, DIGEST_WEBHOOK: emulator.webhookUrl({ id: WEBHOOK_ID, token: "revoked-token" }) };
    const errors = [
      await failure(
        adapter.deliver(output("a"), channel, ctx({ env: { ...env, DISCORD_TOKEN: "wrong-token-value" } })),
      ),
      await failure(adapter.deliver(output("b"), webhook, ctx({ env: wrongHook }))),
      await failure(adapter.deliver(output("c"), webhook, ctx({ env: { ...env, DIGEST_WEBHOOK: "not a url" } }))),
      await failure(
        adapter.deliver(output("d"), webhook, ctx({ env: { ...env, DISCORD_API_URL: "http://127.0.0.1:9/api" } })),
      ),
      await failure(adapter.deliver(output("e"), channel, ctx({ env: { ...env, DISCORD_TOKEN: undefined } }))),
    ];
    emulator.failNext(1, { status: 200, body: `{"token": "${WEBHOOK_TOKEN}"`, method: "POST" });
    errors.push(await failure(adapter.deliver(output("f"), webhook, ctx())));
    expect(errors.map((error) => error.message)).toEqual([
      expect.stringMatching(/^Discord: 401 Unauthorized — check DISCORD_TOKEN/),
      expect.stringMatching(/^Discord: 404 Unknown Webhook — check the webhook URL in DIGEST_WEBHOOK/),
      expect.stringMatching(/^Discord: DIGEST_WEBHOOK does not hold a webhook URL/),
      expect.stringMatching(/^Discord: cannot reach the API: ECONNREFUSED/),
      expect.stringMatching(/^Discord: DISCORD_TOKEN is not set/),
      expect.stringMatching(/^Discord: answered 200 with malformed JSON/),
    ]);
    expect(errors.map((error) => error.retryable)).toEqual([false, false, false, true, false, false]);
    for (const error of errors) for (const secret of secrets) expect(error.message).not.toContain(secret);
  });

  it("names the environment each target needs and previews every message without sending", async () => {
    expect(discordDefinition.requiredEnv(channel)).toEqual(["DISCORD_TOKEN"]);
    expect(discordDefinition.requiredEnv(webhook)).toEqual(["DIGEST_WEBHOOK"]);
    const before = emulator.requests.length;
    const text = await adapter.preview(
      output("Body line.\n\n@everyone"),
      webhook,
      ctx({ earlier: [{ to: "github-pr", url: "https://github.com/o/r/pull/1" }] }),
    );
    expect(text).toContain("webhook from DIGEST_WEBHOOK: 2 messages");
    expect(text).toMatch(
      /message 1 of 2[\s\S]*Pull request: https:\/\/github.com\/o\/r\/pull\/1[\s\S]*\[embed\] Weekly digest[\s\S]*message 2 of 2[\s\S]*Body line/,
    );
    expect(emulator.requests.length).toBe(before);
  });

  it("is checked by an emulator that rejects what Discord would", async () => {
    const post = (body: unknown) =>
      fetch(`${emulator.url}/v10/channels/${CHANNEL_ID}/messages`, {
        method: "POST",
        headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const body of [
      { content: "x".repeat(2001) },
      { embeds: [{ title: "t".repeat(257) }] },
      { embeds: [{ description: "d".repeat(4000) }, { description: "d".repeat(2001) }] },
      { embeds: Array.from({ length: 11 }, () => ({ title: "t" })) },
    ]) {
      const response = await post(body);
      expect([response.status, ((await response.json()) as { code: number }).code]).toEqual([400, 50035]);
    }
  });
});

describe("the emulator answers as Discord does", () => {
  // Discord's documented limits, written out here on purpose: never imported from the code under test.
  const LIMITS = {
    content: 2000,
    title: 256,
    description: 4096,
    fieldName: 256,
    fieldValue: 1024,
    fields: 25,
    footer: 2048,
    author: 256,
    total: 6000,
    embeds: 10,
    nonce: 25,
  };
  let emulator: DiscordEmulator;
  let clock = 1_700_000_000_000;
  beforeAll(async () => {
    emulator = await startDiscordEmulator({ now: () => clock, nonceWindowMs: 5 * 60_000 });
  });
  afterAll(() => emulator.close());
  const post = async (body: unknown) => {
    const response = await fetch(`${emulator.url}/v10/channels/${CHANNEL_ID}/messages`, {
      method: "POST",
      headers: { authorization: `Bot ${emulator.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      body: (await response.json()) as { code?: number; id?: string; errors?: Record<string, unknown> },
    };
  };
  const field = (name: number, value: number) => ({ name: "n".repeat(name), value: "v".repeat(value) });
  const cases: [string, (n: number) => unknown, number, string[]][] = [
    ["content", (n) => ({ content: "c".repeat(n) }), LIMITS.content, ["content"]],
    ["title", (n) => ({ embeds: [{ title: "t".repeat(n) }] }), LIMITS.title, ["embeds", "0", "title"]],
    [
      "description",
      (n) => ({ embeds: [{ description: "d".repeat(n) }] }),
      LIMITS.description,
      ["embeds", "0", "description"],
    ],
    [
      "field name",
      (n) => ({ embeds: [{ fields: [field(n, 1)] }] }),
      LIMITS.fieldName,
      ["embeds", "0", "fields", "0", "name"],
    ],
    [
      "field value",
      (n) => ({ embeds: [{ fields: [field(1, n)] }] }),
      LIMITS.fieldValue,
      ["embeds", "0", "fields", "0", "value"],
    ],
    [
      "fields",
      (n) => ({ embeds: [{ fields: Array.from({ length: n }, () => field(1, 1)) }] }),
      LIMITS.fields,
      ["embeds", "0", "fields", "_errors"],
    ],
    [
      "footer",
      (n) => ({ embeds: [{ footer: { text: "f".repeat(n) } }] }),
      LIMITS.footer,
      ["embeds", "0", "footer", "text"],
    ],
    [
      "author name",
      (n) => ({ embeds: [{ author: { name: "a".repeat(n) } }] }),
      LIMITS.author,
      ["embeds", "0", "author", "name"],
    ],
    [
      "embeds",
      (n) => ({ embeds: Array.from({ length: n }, () => ({ title: "t" })) }),
      LIMITS.embeds,
      ["embeds", "_errors"],
    ],
    [
      "total",
      (n) => ({
        embeds: [
          { description: "d".repeat(4000) },
          { description: "d".repeat(n - 4000 - 256), title: "t".repeat(256) },
        ],
      }),
      LIMITS.total,
      ["embeds", "_errors"],
    ],
    [
      "total with fields, footer and author",
      (n) => ({
        embeds: [
          {
            title: "t".repeat(200),
            footer: { text: "f".repeat(2000) },
            author: { name: "a".repeat(200) },
            fields: Array.from({ length: 3 }, () => field(200, 1000)),
            description: "d".repeat(n - 2400 - 3600),
          },
        ],
      }),
      LIMITS.total,
      ["embeds", "_errors"],
    ],
  ];
  it.each(cases)(
    "accepts %s at Discord's limit and answers 400 50035 keyed by its path one past it",
    async (_, make, limit, path) => {
      expect((await post(make(limit))).status).toBe(200);
      const refused = await post(make(limit + 1));
      expect([refused.status, refused.body.code]).toEqual([400, 50035]);
      const at = path.reduce<unknown>(
        (node, key) => (node as Record<string, unknown> | undefined)?.[key],
        refused.body.errors,
      );
      expect(at, JSON.stringify(refused.body.errors)).toBeTruthy();
    },
  );

  it("refuses a nonce over 25 characters and returns the first message for a repeated enforced nonce only within its window", async () => {
    const refused = await post({ content: "n", nonce: "x".repeat(LIMITS.nonce + 1), enforce_nonce: true });
    expect([refused.status, refused.body.code, refused.body.errors?.nonce]).toEqual([400, 50035, expect.anything()]);
    const nonce = "y".repeat(LIMITS.nonce);
    const first = await post({ content: "once", nonce, enforce_nonce: true });
    clock += 60_000;
    expect((await post({ content: "once", nonce, enforce_nonce: true })).body.id).toBe(first.body.id);
    clock += 5 * 60_000;
    const later = await post({ content: "once", nonce, enforce_nonce: true });
    expect(later.body.id).not.toBe(first.body.id);
    expect(emulator.messages.filter((message) => message.nonce === nonce)).toHaveLength(2);
  });
});

describe("discord messages within Discord's documented limits", () => {
  // Discord's numbers, written out: a change of the code's own limits must fail here.
  const CONTENT = 2000,
    TITLE = 256,
    DESCRIPTION = 4096,
    TOTAL = 6000,
    EMBEDS = 10,
    NONCE = 25;
  const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  let emulator: DiscordEmulator;
  let env: Env;
  beforeAll(async () => {
    emulator = await startDiscordEmulator();
    env = envFor(emulator);
  });
  afterAll(() => emulator.close());

  it("keeps every message of a huge output within 2000 content, 256 title, 4096 description, 6000 in total and 10 embeds, and Discord takes them", async () => {
    const title = `${"A very long title ".repeat(40)}end`;
    const summary = Array.from({ length: 120 }, (_, i) => `Summary paragraph ${i}. ${"detail ".repeat(60)}`).join(
      "\n\n",
    );
    const markdown = Array.from({ length: 40 }, (_, i) => `Body ${i}. ${"word ".repeat(200)}`).join("\n\n");
    const out: Output = { title, summary, markdown, key: "huge" };
    const plan = buildDiscordMessages(out);
    for (const { body } of plan.messages) {
      const embeds = body.embeds ?? [];
      expect(body.content?.length ?? 0).toBeLessThanOrEqual(CONTENT);
      expect(embeds.length).toBeLessThanOrEqual(EMBEDS);
      for (const embed of embeds) {
        expect(embed.title?.length ?? 0).toBeLessThanOrEqual(TITLE);
        expect(embed.description?.length ?? 0).toBeLessThanOrEqual(DESCRIPTION);
      }
      expect(
        embeds.reduce((sum, embed) => sum + (embed.title?.length ?? 0) + (embed.description?.length ?? 0), 0),
      ).toBeLessThanOrEqual(TOTAL);
    }
    const before = emulator.messages.length;
    const receipt = await discordDelivery(fastOptions).deliver(out, channel, deliveryContext({ env, dataDir }));
    expect(receipt.detail?.messageIds).toHaveLength(plan.messages.length);
    expect(emulator.messages.length - before).toBe(plan.messages.length);
    for (const message of emulator.messages.slice(before)) expect(message.nonce?.length).toBeLessThanOrEqual(NONCE);
  });

  it("never exceeds 2000 characters nor leaves a fence open, wherever a code block's lines fall against the limit", () => {
    // Every offset of the code against the limit: some line ends exactly where the closing fence needs room.
    for (let pad = 0; pad < 40; pad++) {
      const code = ["```ts", ...Array.from({ length: 120 }, (_, i) => `x${i}`.padEnd(30 + (i % 7), "=")), "```"].join(
        "\n",
      );
      const text = `${"p".repeat(pad)}\n${code}`;
      for (const part of splitMarkdown(text, CONTENT)) {
        expect(part.length, `pad ${pad}`).toBeLessThanOrEqual(CONTENT);
        expect(fenceLines(part) % 2, `pad ${pad}`).toBe(0);
      }
    }
  });

  it("never cuts an emoji in half at a split, in a message or in a shortened title", () => {
    // Odd offsets put a high surrogate at the cut, which is where the guard must act.
    for (const lead of ["", "a", "ab", "abc"]) {
      const parts = splitMarkdown(`${lead}${"😀".repeat(1500)}`, CONTENT);
      expect(parts.length).toBeGreaterThan(1);
      for (const part of parts) {
        expect(part.length).toBeLessThanOrEqual(CONTENT);
        expect(loneSurrogate.test(part), `lead "${lead}"`).toBe(false);
      }
      expect(parts.join("")).toBe(`${lead}${"😀".repeat(1500)}`);
      const plan = buildDiscordMessages({ title: `${lead}${"🙂".repeat(300)}`, markdown: "x" });
      const shown = plan.messages[0]?.body.embeds?.[0]?.title ?? "";
      expect(shown.length).toBeLessThanOrEqual(TITLE);
      expect(loneSurrogate.test(shown), `title lead "${lead}"`).toBe(false);
    }
  });
});

describe("discord message splitting", () => {
  const unrepair = (parts: string[], reopen: string) =>
    parts
      .map((part, i) => (i > 0 && part.startsWith(`${reopen}\n`) ? part.slice(reopen.length + 1) : part))
      .map((part, i) => (i < parts.length - 1 && part.endsWith("\n```") ? part.slice(0, -4) : part));

  it("splits at paragraphs first, then lines, then spaces, then anywhere, losing only whitespace at a cut", () => {
    const [a, b, c] = ["a".repeat(900), "b".repeat(900), "c".repeat(900)];
    expect(splitMarkdown(`${a}\n\n${b}\n\n${c}`, 2000)).toEqual([`${a}\n\n${b}`, c]);
    const paragraph = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(150, "y")).join("\n");
    expect(splitMarkdown(`${a}\n\n${paragraph}`, 2000)).toEqual([a, paragraph]); // not a + 7 of its lines
    const lines = Array.from({ length: 30 }, (_, i) => `${i}`.padEnd(99, "x"));
    const byLine = splitMarkdown(lines.join("\n"), 2000);
    expect(byLine.map((part) => part.length)).toEqual([1999, 999]);
    expect(byLine.join("\n")).toBe(lines.join("\n"));
    const words = Array.from({ length: 900 }, (_, i) => `word${i}`).join(" ");
    const byWord = splitMarkdown(words, 2000);
    expect(byWord.every((part) => part.length <= 2000 && !part.startsWith(" ") && !part.endsWith(" "))).toBe(true);
    expect(byWord.join(" ")).toBe(words);
    expect(splitMarkdown("x".repeat(4500), 2000).map((part) => part.length)).toEqual([2000, 2000, 500]);
    expect(splitMarkdown("😀".repeat(1500), 2000).join("")).toBe("😀".repeat(1500));
  });

  it("closes a code fence at the end of a part and reopens it with its language", () => {
    const code = [
      "Intro.",
      "```py",
      ...Array.from({ length: 120 }, (_, i) => `print(${i})  # ${"-".repeat(20)}`),
      "```",
      "Outro.",
    ].join("\n");
    const parts = splitMarkdown(code, 1000);
    expect(parts.length).toBeGreaterThan(3);
    for (const [i, part] of parts.entries()) {
      expect(part.length).toBeLessThanOrEqual(1000);
      expect(fenceLines(part) % 2).toBe(0);
      if (i > 0) expect(part.startsWith("```py\n") || part.startsWith("Outro")).toBe(true);
    }
    expect(unrepair(parts, "```py").join("\n")).toBe(code);
  });

  it("loses nothing and keeps the order of mixed markdown", () => {
    const blocks = Array.from({ length: 40 }, (_, i) =>
      i % 7 === 3 ? `\`\`\`js\n${`let n${i} = ${i};\n`.repeat(30)}\`\`\`` : `Block ${i}. ${"text ".repeat(i * 7)}`,
    );
    const text = blocks.join("\n\n");
    const parts = splitMarkdown(text, 700);
    expect(parts.every((part) => part.length <= 700 && fenceLines(part) % 2 === 0)).toBe(true);
    expect(
      parts
        .join("\n")
        .split(/\s+|```js|```/)
        .join(""),
    ).toBe(text.split(/\s+|```js|```/).join(""));
  });

  it("keeps embeds within Discord's title, description, total and count limits", () => {
    const title = `${"Long title ".repeat(30)}end`;
    const summary = Array.from({ length: 60 }, (_, i) => `Summary paragraph ${i}. ${"detail ".repeat(40)}`).join(
      "\n\n",
    );
    const plan = buildDiscordMessages({ title, summary, markdown: "" });
    const embeds = plan.messages.flatMap((message) => message.body.embeds ?? []);
    expect(embeds[0]?.title?.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedTitle);
    for (const message of plan.messages) {
      expect((message.body.embeds ?? []).reduce((sum, embed) => sum + embedSize(embed), 0)).toBeLessThanOrEqual(
        DISCORD_LIMITS.embedsTotal,
      );
      expect(message.body.allowed_mentions).toEqual({ parse: [] });
    }
    expect(embeds.every((embed) => (embed.description?.length ?? 0) <= DISCORD_LIMITS.embedDescription)).toBe(true);
    const described = embeds.map((embed) => embed.description).join("\n\n");
    expect(described).toContain(title);
    expect(textLines(described).join("\n")).toBe(textLines(`**${title}**\n\n${summary}`).join("\n"));
    const small = packEmbeds(Array.from({ length: 23 }, (_, i) => ({ title: `e${i}` })));
    expect(small.map((group) => group.length)).toEqual([10, 10, 3]);
  });

  it("sends the sample output as an embed and a body message", () => {
    const plan = buildDiscordMessages(sampleOutput, []);
    expect(
      plan.messages.map((message) => [message.body.embeds?.length ?? 0, message.body.content?.length ?? 0]),
    ).toEqual([
      [1, 0],
      [0, sampleOutput.markdown.length],
    ]);
  });
});
