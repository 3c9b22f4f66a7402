/** Claude integration, with the official SDK against the loopback Messages API emulator. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { z } from "zod";
import { isRetryable, MissingCredentialError, ServiceError } from "../../src/errors.ts";
import { DEFAULT_MODEL, createClaudeClient } from "../../src/integrations/claude/client.ts";
import { PRICES, addUsage, costOf } from "../../src/integrations/claude/pricing.ts";

const ZERO_USAGE: Readonly<Usage> = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheWriteTokens: 0,
  cacheReadTokens: 0,
});
import type { Env, Usage } from "../../src/types.ts";
import { startAnthropicEmulator, type AnthropicEmulator, type MessagesBody } from "../emulators/anthropic.ts";

const API_KEY = "fake-anthropic-test-0123456789-secret";
const LONG_SYSTEM = `You write careful technical articles. ${"Keep every claim sourced. ".repeat(400)}`;
const Article = z.object({ title: z.string().min(5), tags: z.array(z.string()).max(3) });

let emulator: AnthropicEmulator;
beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: API_KEY });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

function setup(overrides: { env?: Env; model?: string; signal?: AbortSignal } = {}) {
  const usages: { model: string; usage: Usage; costUsd: number | null }[] = [];
  const env = { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: emulator.url, ...overrides.env };
  const signal = overrides.signal ?? new AbortController().signal;
  const claude = createClaudeClient({
    env,
    model: overrides.model,
    signal,
    log: pino({ level: "silent" }),
    onUsage: (record) => usages.push(record),
  });
  return { claude, usages };
}

const bodyOf = (index: number): MessagesBody => emulator.requests[index]?.body as MessagesBody;

/** Awaits a rejection that must be a ServiceError with this message (and retryability, when given). */
async function expectFailure(
  promise: Promise<unknown>,
  message: string | RegExp,
  retryable?: boolean,
): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceError);
  expect((error as ServiceError).message).toMatch(message);
  if (retryable !== undefined) expect((error as ServiceError).retryable).toBe(retryable);
  return error as ServiceError;
}

describe("claude.text", () => {
  it("returns the answer's text and sends the key, the default model and timeout, and a cached system prompt", async () => {
    emulator.responder = (body) => `Answer to: ${JSON.stringify(body.messages?.[0]?.content)}`;
    expect(await setup().claude.text({ system: "Be brief.", prompt: "Hello" })).toBe('Answer to: "Hello"');
    expect(emulator.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(emulator.requests[0]?.headers["x-stainless-timeout"]).toBe("300"); // 5m, in seconds
    const system = [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }];
    expect(bodyOf(0)).toMatchObject({ model: DEFAULT_MODEL, max_tokens: 4096, system });
  });

  it("takes the model from the request, then the client option, then SUNDIAL_MODEL; and the request's limits", async () => {
    await setup({ env: { SUNDIAL_MODEL: "claude-haiku-4-5" } }).claude.text({ prompt: "a" });
    await setup({ env: { SUNDIAL_MODEL: "claude-haiku-4-5" }, model: "claude-opus-5-5" }).claude.text({ prompt: "b" });
    await setup({ model: "claude-opus-5-5" }).claude.text({
      prompt: "c",
      model: "claude-fable-5-2",
      maxTokens: 100,
      timeout: "90s",
    });
    expect([0, 1, 2].map((i) => bodyOf(i).model)).toEqual(["claude-haiku-4-5", "claude-opus-5-5", "claude-fable-5-2"]);
    expect([bodyOf(2).max_tokens, emulator.requests[2]?.headers["x-stainless-timeout"]]).toEqual([100, "90"]);
  });

  it("fails instead of passing on an answer cut off at maxTokens", async () => {
    emulator.responder = () => "word ".repeat(100);
    await expectFailure(
      setup().claude.text({ prompt: "long", maxTokens: 5 }),
      "Claude: the answer was cut off at maxTokens (5); raise maxTokens",
      false,
    );
  });

  it("fails clearly, sending nothing, without ANTHROPIC_API_KEY (the one missing-credential error, not retried)", async () => {
    const error = await setup({ env: { ANTHROPIC_API_KEY: undefined } })
      .claude.text({ prompt: "x" })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(MissingCredentialError);
    expect((error as MissingCredentialError).message).toMatch(/ANTHROPIC_API_KEY is not set/);
    expect(isRetryable(error)).toBe(false);
    expect(emulator.requests).toHaveLength(0);
  });
});

describe("claude.structured", () => {
  it("returns the validated value, asking for JSON schema output rather than a forced tool", async () => {
    emulator.responder = () => ({ json: { title: "Cron in practice", tags: ["cron"] } });
    const value = await setup().claude.structured({
      prompt: "Write",
      schema: Article,
      name: "article",
      description: "A blog article",
    });
    expect(value).toEqual({ title: "Cron in practice", tags: ["cron"] });
    expect(bodyOf(0).tool_choice).toBeUndefined();
    const schema = {
      type: "object",
      title: "article",
      description: "A blog article",
      additionalProperties: false,
      required: ["title", "tags"],
    };
    expect(bodyOf(0).output_config?.format).toMatchObject({ type: "json_schema", schema });
  });

  it("asks once more with what was wrong, and accepts the corrected answer", async () => {
    emulator.responder = (_body, index) => ({ json: { title: index === 0 ? "Hi" : "Hello there", tags: ["a"] } });
    const { claude, usages } = setup();
    expect(await claude.structured({ prompt: "Write", schema: Article, name: "article" })).toEqual({
      title: "Hello there",
      tags: ["a"],
    });
    const retry = bodyOf(1).messages ?? [];
    expect(retry.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(retry[1]?.content).toEqual([{ type: "text", text: '{"title":"Hi","tags":["a"]}', citations: null }]);
    expect(retry[2]?.content).toMatch(/title: Too small: expected string to have >=5 characters/);
    expect([emulator.requests.length, usages.length]).toEqual([2, 2]);
  });

  it("treats an answer that is not JSON as invalid too", async () => {
    emulator.responder = (_body, index) =>
      index === 0 ? "Sure! Here it is:" : { json: { title: "Hello there", tags: [] } };
    expect(await setup().claude.structured({ prompt: "Write", schema: Article, name: "article" })).toEqual({
      title: "Hello there",
      tags: [],
    });
    expect(bodyOf(1).messages?.[2]?.content).toMatch(/the answer is not JSON/);
  });

  it("fails naming the validation problem when the second answer is invalid too", async () => {
    emulator.responder = () => ({ json: { title: "Hello there", tags: ["a", "b", "c", "d"] } });
    const pending = setup().claude.structured({ prompt: "Write", schema: Article, name: "article" });
    await expectFailure(
      pending,
      /^Claude: the answer for "article" did not match its schema after a second try: tags: Too big/,
    );
    expect(emulator.requests).toHaveLength(2);
  });
});

describe("claude failures", () => {
  it("waits as 429's retry-after says, then succeeds", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 1 });
    const started = Date.now();
    expect(await setup().claude.text({ prompt: "x" })).toBe("Emulated answer.");
    expect(emulator.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("retries a 500, then succeeds", async () => {
    emulator.failNext(1, { status: 500 });
    expect(await setup().claude.text({ prompt: "x" })).toBe("Emulated answer.");
    expect(emulator.requests).toHaveLength(2);
  });

  it("gives up after three retries of an overloaded API, as retryable", async () => {
    emulator.failNext(4, { status: 529 });
    await expectFailure(setup().claude.text({ prompt: "x" }), "Claude: 529 overloaded_error: emulated 529", true);
    expect(emulator.requests).toHaveLength(4);
  });

  it("fails a 401 at once, naming the cause without the key", async () => {
    const wrongKey = "fake-wrong-key-987654321";
    const error = await expectFailure(
      setup({ env: { ANTHROPIC_API_KEY: wrongKey } }).claude.text({ prompt: "x" }),
      "Claude: 401 authentication_error: invalid x-api-key",
      false,
    );
    expect(error.message).not.toContain(wrongKey);
    expect([error.status, emulator.requests.length]).toEqual([401, 1]);
  });

  it("never repeats the key, even when the API's message does", async () => {
    const body = JSON.stringify({
      type: "error",
      error: { type: "permission_error", message: `key ${API_KEY} may not use this model` },
    });
    emulator.failNext(1, { status: 403, body });
    await expectFailure(
      setup().claude.text({ prompt: "x" }),
      "Claude: 403 permission_error: key [redacted] may not use this model",
      false,
    );
  });

  it("fails a 400 at once with the API's explanation", async () => {
    await expectFailure(
      setup().claude.text({ prompt: "x", maxTokens: 0 }),
      "Claude: 400 invalid_request_error: max_tokens: Input should be a positive integer",
      false,
    );
    expect(emulator.requests).toHaveLength(1);
  });

  it("fails clearly on a body that is not JSON", async () => {
    emulator.malformedNext();
    await expectFailure(setup().claude.text({ prompt: "x" }), /^Claude: unreadable answer \(.*JSON/);
  });

  it("rejects with the run's abort reason when its signal fires", async () => {
    emulator.delayMs = 5000;
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error("run timed out")), 100);
    const error = await setup({ signal: controller.signal })
      .claude.text({ prompt: "x" })
      .catch((e: unknown) => e);
    expect(error).toEqual(new Error("run timed out"));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe("claude usage and cost", () => {
  it("reports each call: a cache write first, a cache read with the same system prompt next", async () => {
    const { claude, usages } = setup();
    await claude.text({ system: LONG_SYSTEM, prompt: "first" });
    await claude.text({ system: LONG_SYSTEM, prompt: "second" });
    const [first, second] = usages;
    expect(first?.model).toBe(DEFAULT_MODEL);
    expect([first?.usage.cacheReadTokens, second?.usage.cacheWriteTokens]).toEqual([0, 0]);
    expect(first?.usage.cacheWriteTokens).toBeGreaterThan(1024);
    expect(second?.usage.cacheReadTokens).toBe(first?.usage.cacheWriteTokens);
    for (const { usage, costUsd } of usages) {
      expect(usage.inputTokens).toBeGreaterThan(0);
      const expected =
        (usage.inputTokens * 2 + usage.outputTokens * 10 + usage.cacheWriteTokens * 2.5 + usage.cacheReadTokens * 0.1) /
        1e6;
      expect(costUsd).toBeCloseTo(expected, 12);
    }
    expect(second!.costUsd!).toBeLessThan(first!.costUsd!);
  });

  it("reports a null cost for a model without a known price", async () => {
    emulator.models.add("claude-unknown-9"); // a model the API serves that is newer than the price table
    const { claude, usages } = setup({ model: "claude-unknown-9" });
    await claude.text({ prompt: "x" });
    expect(usages[0]).toMatchObject({ model: "claude-unknown-9", costUsd: null });
    expect(usages[0]?.usage.inputTokens).toBeGreaterThan(0);
  });
});

describe("pricing", () => {
  const usage: Usage = { inputTokens: 1000, outputTokens: 500, cacheWriteTokens: 2000, cacheReadTokens: 3000 };

  it("prices every kind of token from the table, dated ids included", () => {
    const p = PRICES["claude-sonnet-4-5"]!;
    expect(costOf("claude-sonnet-4-5-20250929", usage)).toBeCloseTo(
      (1000 * p.input + 500 * p.output + 2000 * p.cacheWrite + 3000 * p.cacheRead) / 1e6,
      12,
    );
    expect(costOf("claude-sonnet-4-5", usage)).toBeCloseTo(0.003 + 0.0075 + 0.0075 + 0.0009, 12);
  });

  it("returns null for an unknown model or version, never a family guess", () => {
    expect([costOf("gpt-5", usage), costOf("claude-sonnet-4-7", usage)]).toEqual([null, null]);
  });

  it("prices a Haiku 5.5 prompt over 100k tokens at its long-prompt rate", () => {
    const long: Usage = { ...ZERO_USAGE, inputTokens: 90_000, cacheReadTokens: 20_000, outputTokens: 1000 };
    expect(costOf("claude-haiku-5-5", long)).toBeCloseTo((90_000 * 0.5 + 20_000 * 0.05 + 1000 * 2.5) / 1e6, 12);
  });

  it("adds usages field by field", () => {
    expect(addUsage(addUsage(ZERO_USAGE, usage), usage)).toEqual({
      inputTokens: 2000,
      outputTokens: 1000,
      cacheWriteTokens: 4000,
      cacheReadTokens: 6000,
    });
  });
});

describe("anthropic emulator", () => {
  const post = (
    body: unknown,
    headers: Record<string, string> = { "x-api-key": API_KEY, "anthropic-version": "2023-06-01" },
  ) =>
    fetch(`${emulator.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const apiError = (type: string, message: unknown) => ({ type: "error", error: { type, message } });

  it("answers errors in the API's shape: no key 401, missing field 400, forced tool on Sonnet 5.5 400", async () => {
    const noKey = await post(
      { model: DEFAULT_MODEL, max_tokens: 10, messages: [] },
      { "anthropic-version": "2023-06-01" },
    );
    expect([noKey.status, await noKey.json()]).toEqual([
      401,
      apiError("authentication_error", expect.stringContaining("API key is required")),
    ]);
    const noModel = await post({ max_tokens: 10, messages: [{ role: "user", content: "x" }] });
    expect([noModel.status, await noModel.json()]).toEqual([
      400,
      apiError("invalid_request_error", "model: Field required"),
    ]);
    const tools = [{ name: "t", input_schema: { type: "object" } }];
    const forced = await post({
      model: DEFAULT_MODEL,
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
      tools,
      tool_choice: { type: "tool", name: "t" },
    });
    expect([forced.status, ((await forced.json()) as { error: { type: string } }).error.type]).toEqual([
      400,
      "invalid_request_error",
    ]);
  });

  it("answers 404 not_found_error for a model it does not know, and accepts dated ids of known ones", async () => {
    const unknown = await post({ model: "claude-xyz", max_tokens: 10, messages: [{ role: "user", content: "x" }] });
    expect([unknown.status, await unknown.json()]).toEqual([404, apiError("not_found_error", "model: claude-xyz")]);
    const dated = await post({
      model: "claude-sonnet-4-5-20250929",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    });
    expect(dated.status).toBe(200);
  });

  it("makes the client fail a misspelled model with a non-retryable error naming it", async () => {
    const error = await setup({ model: "claude-sonet-5-5" })
      .claude.text({ prompt: "x" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      status: 404,
      retryable: false,
      message: expect.stringContaining("claude-sonet-5-5"),
    });
  });
});
