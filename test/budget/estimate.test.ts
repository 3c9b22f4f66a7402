/**
 * The bound of a call's cost (src/budget/estimate.ts): never below what the API bills for the same
 * request (checked against the Anthropic emulator's usage, counted as the API counts it, cache
 * included), at the cache-write price for the cached system prompt, null for an unknown model.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxCallCost } from "../../src/budget/estimate.ts";
import { costOf } from "../../src/integrations/claude/pricing.ts";
import { createClaudeClient } from "../../src/integrations/claude/client.ts";
import { silentLog } from "../helpers/ledger.ts";
import { startAnthropicEmulator, type AnthropicEmulator } from "../emulators/anthropic.ts";
import type { BudgetGuard, CallEstimate } from "../../src/budget/guard.ts";
import type { Usage } from "../../src/types.ts";

const API_KEY = "fake-anthropic-estimate-0123456789";
let emulator: AnthropicEmulator;
beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: API_KEY });
});
afterAll(() => emulator.close());

describe("a call's largest cost", () => {
  it("is at least what the answer cost, for plain, unicode and cached prompts", async () => {
    const seen: { bound: CallEstimate; usage: Usage; cost: number | null }[] = [];
    // A guard that records what the client reserved, and the answer's usage, per call.
    const guard: Pick<BudgetGuard, "reserve"> = {
      async reserve(bound) {
        return {
          settle: async (_model, usage, cost) => void seen.push({ bound, usage, cost }),
          release: async () => {},
        };
      },
    };
    const claude = createClaudeClient({
      env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: emulator.url },
      signal: new AbortController().signal,
      log: silentLog,
      onUsage: () => {},
      budget: guard,
    });
    emulator.responder = () => "y".repeat(396);
    const system = "You are terse. ".repeat(800);
    await claude.text({ prompt: "Hello there.", maxTokens: 100 });
    await claude.text({ prompt: "日本語のテキスト、絵文字 🎉🎉 ".repeat(200), maxTokens: 100 });
    await claude.text({ system, prompt: "first", maxTokens: 100 });
    await claude.text({ system, prompt: "second", maxTokens: 100 });
    expect(seen).toHaveLength(4);
    expect(seen[2]?.usage.cacheWriteTokens).toBeGreaterThan(0);
    expect(seen[3]?.usage.cacheReadTokens).toBeGreaterThan(0);
    for (const { bound, usage, cost } of seen) {
      expect(bound.maxCostUsd).toBeGreaterThanOrEqual(cost as number);
      expect(bound.inputTokens).toBeGreaterThanOrEqual(
        usage.inputTokens + usage.cacheWriteTokens + usage.cacheReadTokens,
      );
    }
  });

  it("prices a cached prompt at the cache-write price and output at maxTokens; unknown models have no bound", () => {
    const plain = maxCallCost({
      model: "claude-sonnet-5-5",
      cachedBytes: 0,
      otherBytes: 10_000,
      messages: 1,
      maxTokens: 1000,
    });
    const cached = maxCallCost({
      model: "claude-sonnet-5-5",
      cachedBytes: 10_000,
      otherBytes: 0,
      messages: 1,
      maxTokens: 1000,
    });
    const tokens = 10_000 + 64 + 16;
    expect(plain).toEqual({ inputTokens: tokens, usd: (tokens * 2 + 1000 * 10) / 1e6 });
    expect(cached.usd).toBeCloseTo((10_000 * 2.5 + 80 * 2 + 1000 * 10) / 1e6, 12);
    expect(cached.usd).toBeGreaterThanOrEqual(
      costOf("claude-sonnet-5-5", {
        inputTokens: 80,
        outputTokens: 1000,
        cacheWriteTokens: 10_000,
        cacheReadTokens: 0,
      }) as number,
    );
    expect(
      maxCallCost({ model: "claude-unknown-9", cachedBytes: 0, otherBytes: 10, messages: 1, maxTokens: 10 }).usd,
    ).toBeNull();
  });
});
