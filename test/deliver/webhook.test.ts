/**
 * The webhook delivery, added as one file and one line in the registry: the shared adapter
 * contract, the JSON body, headers from the environment, retries on 5xx and 429, the body limit, and
 * its URL (a secret) kept out of every error — all against a small loopback receiver.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryTargetSchema, requiredEnvOf } from "../../src/deliver/index.ts";
import { TRUNCATED_MARK, webhookDefinition, webhookDelivery, type WebhookTarget } from "../../src/deliver/webhook.ts";
import { isRetryable, ServiceError } from "../../src/errors.ts";
import { resolveConfiguration } from "../../src/config/load.ts";
import { schedulesSchema } from "../../src/config/schema.ts";
import { defineSkill } from "../../src/skill/define.ts";
import type { SkillSet } from "../../src/skill/load.ts";
import { z } from "zod";
import { describeDeliveryContract, deliveryContext, sampleOutput } from "./contract.ts";

interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Answers for the next requests (status, headers); 204 once they run out; `/forbidden` is always 403. */
  answers: { status: number; headers?: Record<string, string> }[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answers: Receiver["answers"] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const answer = request.url === "/forbidden" ? { status: 403 } : (answers.shift() ?? { status: 204 });
      response.writeHead(answer.status, answer.headers).end(answer.status >= 400 ? "receiver says no" : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// The path carries the hook's token, as Slack's and Discord's do: it must never appear in an error.
const TOKEN_PATH = "/hooks/T000/secret-token-0123456789";
const target = (extra: Partial<WebhookTarget> = {}): WebhookTarget =>
  webhookDefinition.schema.parse({ to: "webhook", urlEnv: "HOOK_URL", ...extra });

describeDeliveryContract("webhook", async () => {
  const receiver = await startReceiver();
  return {
    adapter: webhookDefinition.create({}),
    target: target(),
    env: { HOOK_URL: `${receiver.url}${TOKEN_PATH}` },
    dataDir: "/nonexistent",
    failing: { target: target(), env: { HOOK_URL: `${receiver.url}/forbidden` } },
    sentCount: () => receiver.received.filter((request) => request.path === TOKEN_PATH).length,
    close: () => receiver.close(),
  };
});

describe("webhook delivery", () => {
  let receiver: Receiver;
  const env = () => ({ HOOK_URL: `${receiver.url}${TOKEN_PATH}`, HOOK_TOKEN: "Bearer hook-secret-value" });
  const adapter = webhookDelivery({ baseDelayMs: 5 });
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it("is a target of schedules.json whose environment `check` asks for", () => {
    const parsed = deliveryTargetSchema.parse({
      to: "webhook",
      urlEnv: "HOOK_URL",
      headersEnv: { Authorization: "HOOK_TOKEN" },
    });
    expect(parsed).toEqual({
      to: "webhook",
      urlEnv: "HOOK_URL",
      headersEnv: { Authorization: "HOOK_TOKEN" },
      maxBytes: 256 * 1024,
      retries: 3,
    });
    expect(requiredEnvOf(parsed)).toEqual(["HOOK_URL", "HOOK_TOKEN"]);
    expect(deliveryTargetSchema.safeParse({ to: "webhook", urlEnv: "https://hooks.example.com/x" }).success).toBe(
      false,
    );
    // `check`: a job delivering to it is disabled until its variables are set, and alerts may use it.
    const file = {
      alerts: [{ to: "webhook", urlEnv: "ALERT_URL" }],
      jobs: [{ id: "a", skill: "plain", cron: "@daily", deliver: [parsed] }],
    };
    const skills: SkillSet = {
      skills: new Map([
        [
          "plain",
          {
            name: "plain",
            file: "/x/plain.ts",
            definition: defineSkill({ name: "plain", description: "", params: z.object({}), run: () => undefined }),
          },
        ],
      ]),
      problems: [],
    };
    const configuration = resolveConfiguration("schedules.json", schedulesSchema.parse(file), skills, {
      HOOK_URL: "https://hooks.example.com/x",
    });
    expect(configuration.problems.map((problem) => [problem.path, problem.message])).toEqual([
      ["jobs[0]", "needs the environment variable HOOK_TOKEN, which is not set"],
      ["alerts[0]", "alerts need the environment variable ALERT_URL, which is not set"],
    ]);
  });

  it("POSTs {title, summary, markdown, links} as JSON with the headers named in headersEnv", async () => {
    receiver.received.length = 0;
    const ctx = {
      ...deliveryContext({ env: env(), dataDir: "/nonexistent" }),
      earlier: [{ to: "github-pr" as const, url: "https://example.test/pr/1" }],
    };
    const output = { ...sampleOutput, links: [{ title: "Source", url: "https://example.org/a" }] };
    const receipt = await adapter.deliver(output, target({ headersEnv: { Authorization: "HOOK_TOKEN" } }), ctx);
    expect(receipt).toEqual({ to: "webhook", detail: { status: 204, bytes: expect.any(Number) } });
    expect(JSON.stringify(receipt)).not.toContain("secret-token");
    const [request] = receiver.received;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(TOKEN_PATH);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers.authorization).toBe("Bearer hook-secret-value");
    expect(JSON.parse(request?.body ?? "")).toEqual({
      title: sampleOutput.title,
      summary: sampleOutput.summary,
      markdown: sampleOutput.markdown,
      links: [
        { title: "Source", url: "https://example.org/a" },
        { title: "github-pr", url: "https://example.test/pr/1" },
      ],
    });
  });

  it("retries 5xx and 429 (as long as retry-after asks), then succeeds", async () => {
    receiver.received.length = 0;
    receiver.answers.push({ status: 503 }, { status: 429, headers: { "retry-after": "1" } }, { status: 200 });
    const started = Date.now();
    const receipt = await adapter.deliver(
      sampleOutput,
      target(),
      deliveryContext({ env: env(), dataDir: "/nonexistent" }),
    );
    expect(receipt.detail).toMatchObject({ status: 200 });
    expect(receiver.received).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("gives up after `retries` with a retryable error that names the variable, never the URL", async () => {
    receiver.received.length = 0;
    receiver.answers.push({ status: 500 }, { status: 500 }, { status: 500 });
    const error = await adapter
      .deliver(sampleOutput, target({ retries: 2 }), deliveryContext({ env: env(), dataDir: "/nonexistent" }))
      .catch((e: unknown) => e);
    expect(receiver.received).toHaveLength(3);
    expect(error).toBeInstanceOf(ServiceError);
    expect(isRetryable(error)).toBe(true);
    expect((error as Error).message).toMatch(/^webhook: HTTP 500 from the URL in HOOK_URL/);
    expect((error as Error).message).not.toContain("secret-token");
  });

  it("fails at once on a 4xx, and refuses a redirect instead of re-sending as GET", async () => {
    receiver.received.length = 0;
    receiver.answers.push({ status: 404 }, { status: 302, headers: { location: "/elsewhere" } });
    const notFound = await adapter
      .deliver(sampleOutput, target(), deliveryContext({ env: env(), dataDir: "/nonexistent" }))
      .catch((e: unknown) => e);
    expect(isRetryable(notFound)).toBe(false);
    expect((notFound as Error).message).toMatch(/^webhook: HTTP 404 from the URL in HOOK_URL/);
    const redirected = await adapter
      .deliver(sampleOutput, target(), deliveryContext({ env: env(), dataDir: "/nonexistent" }))
      .catch((e: unknown) => e);
    expect((redirected as Error).message).toMatch(/^webhook: the URL in HOOK_URL redirected/);
    expect((redirected as Error).message).not.toContain("secret-token");
    expect(receiver.received.map((request) => request.path)).toEqual([TOKEN_PATH, TOKEN_PATH]);
  });

  it("cuts the markdown to fit maxBytes and says so", async () => {
    receiver.received.length = 0;
    const long = { ...sampleOutput, markdown: `${'A line of the digest with ünïcödé and "quotes" 🎉.\n'.repeat(200)}` };
    await adapter.deliver(long, target({ maxBytes: 2048 }), deliveryContext({ env: env(), dataDir: "/nonexistent" }));
    const body = receiver.received[0]?.body ?? "";
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(body)).toBeGreaterThan(2000);
    const sent = JSON.parse(body) as { markdown: string; title: string };
    expect(sent.title).toBe(sampleOutput.title);
    expect(sent.markdown.endsWith(TRUNCATED_MARK)).toBe(true);
    expect(long.markdown.startsWith(sent.markdown.slice(0, -TRUNCATED_MARK.length))).toBe(true);
  });

  it("says which variable is missing or wrong, sending nothing", async () => {
    receiver.received.length = 0;
    const ctx = (vars: Record<string, string>) => deliveryContext({ env: vars, dataDir: "/nonexistent" });
    await expect(adapter.deliver(sampleOutput, target(), ctx({}))).rejects.toThrow(/^webhook: HOOK_URL is not set/);
    await expect(adapter.deliver(sampleOutput, target(), ctx({ HOOK_URL: "not a url secret-token" }))).rejects.toThrow(
      /^webhook: HOOK_URL does not hold an http\(s\) URL; set it/,
    );
    await expect(
      adapter.deliver(
        sampleOutput,
        target({ headersEnv: { Authorization: "HOOK_TOKEN" } }),
        ctx({ HOOK_URL: env().HOOK_URL }),
      ),
    ).rejects.toThrow(/HOOK_TOKEN is not set/);
    expect(receiver.received).toHaveLength(0);
  });
});
