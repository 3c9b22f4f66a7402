/**
 * `createIntegrations` (src/integrations/index.ts) imports no SDK: each service's module is imported
 * by its first call, once per process, and its client made once per run; the calls still reach
 * the service (the Claude SDK against the loopback Messages API emulator).
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { IntegrationRequest } from "../../src/run/runner.ts";
import { startAnthropicEmulator, type AnthropicEmulator } from "../emulators/anthropic.ts";

const API_KEY = "fake-anthropic-test-0123456789-secret";
const imported: string[] = [];
let clientsMade = 0;

// Each SDK-backed module, real, but noting when it is imported (and when a Claude client is made).
vi.doMock("../../src/integrations/claude/client.ts", async (original) => {
  imported.push("claude");
  const real = await original<typeof import("../../src/integrations/claude/client.ts")>();
  return {
    ...real,
    createClaudeClient: (...args: Parameters<typeof real.createClaudeClient>) => {
      clientsMade++;
      return real.createClaudeClient(...args);
    },
  };
});
for (const [name, path] of [
  ["feeds", "../../src/integrations/feeds/feeds.ts"],
  ["github", "../../src/integrations/github/source.ts"],
  ["youtube", "../../src/integrations/youtube/youtube.ts"],
] as const) {
  vi.doMock(path, async (original) => {
    imported.push(name);
    return original();
  });
}

let emulator: AnthropicEmulator;
beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: API_KEY });
});
afterAll(() => emulator.close());

function request(usages: unknown[]): IntegrationRequest {
  return {
    env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: emulator.url },
    job: { id: "lazy", skill: "lazy" } as IntegrationRequest["job"],
    signal: new AbortController().signal,
    log: pino({ level: "silent" }),
    store: {} as IntegrationRequest["store"],
    stateSnapshot: new Map(),
    dryRun: true,
    onUsage: (record) => usages.push(record),
  };
}

describe("integrations", () => {
  it("import each SDK on its first use, once, and make one client per run", async () => {
    const { createIntegrations } = await import("../../src/integrations/index.ts");
    const usages: unknown[] = [];
    const first = createIntegrations(request(usages));
    expect(imported).toEqual([]);
    expect(first.images.available).toBe(false);

    emulator.responder = () => "hello";
    expect(await first.claude.text({ prompt: "say hello" })).toBe("hello");
    expect(await first.claude.text({ prompt: "again" })).toBe("hello");
    expect(imported).toEqual(["claude"]);
    expect(clientsMade).toBe(1);
    expect(usages).toHaveLength(2);

    const second = createIntegrations(request(usages));
    expect(await second.claude.text({ prompt: "a new run" })).toBe("hello");
    expect(imported).toEqual(["claude"]);
    expect(clientsMade).toBe(2);
  });
});
