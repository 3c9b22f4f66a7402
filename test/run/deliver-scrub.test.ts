/**
 * @module deliver-scrub.test — what a skill delivers passes the scrubber before any adapter sees it:
 * a secret (raw or JSON-escaped) or a URL's userinfo in an output's text never reaches a delivery,
 * binary files are untouched.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createRunner } from "../../src/run/runner.ts";
import { createScrubber } from "../../src/util/redact.ts";
import type { DeliveryAdapter, Output, Receipt } from "../../src/types.ts";
import type { Integrations } from "../../src/run/context.ts";
import { z } from "../../src/index.ts";
import { job, silentLog, tempStore } from "../helpers/ledger.ts";

const TOKEN = 'ghp_"quoted\\secret0123456789';
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

describe("deliveries of error text", () => {
  it("reach the adapter with secrets and URL userinfo scrubbed", async () => {
    const ledger = tempStore();
    cleanup = ledger.cleanup;
    const seen: Output[] = [];
    const adapter = {
      name: "stdout",
      requiredEnv: () => [],
      async deliver(output: Output): Promise<Receipt> {
        seen.push(output);
        return { to: "stdout" };
      },
      preview: async () => "",
    } as DeliveryAdapter;
    const env = { GITHUB_TOKEN: TOKEN };
    const runner = createRunner({
      store: ledger.store,
      env,
      dataDir: ledger.dir,
      log: silentLog,
      now: Date.now,
      adapters: new Map([["stdout", adapter]]),
      integrations: noIntegrations,
      writePreview: () => undefined,
      alerts: () => [],
      scrub: createScrubber(env),
    });
    const bytes = new Uint8Array([1, 2, 3]);
    const run = async (): Promise<Output> => ({
      title: `failed with ${TOKEN}`,
      summary: `json ${JSON.stringify({ TOKEN })}`,
      markdown: "Could not read: Feed (https://bob:pw-secret@feeds.example.test/rss answered 401)",
      links: [{ title: "x", url: `https://feeds.example.test/?t=${encodeURIComponent(TOKEN)}` }],
      files: [
        { path: "a.txt", content: `token ${TOKEN}` },
        { path: "b.bin", content: bytes },
      ],
    });
    const skill = { name: "t", file: "t.ts", definition: { name: "t", description: "t", params: z.object({}), run } };
    const [claim] = await ledger.store.claimRuns(
      [{ job: "j", skill: "t", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
      { pid: process.pid, instance: "t" },
      1,
    );
    const outcome = await runner.execute({
      runId: claim?.runId as number,
      job: job({ id: "j", cron: "0 0 1 1 *", deliver: [{ to: "stdout" }] }),
      skill,
      scheduledFor: 1,
      attempt: 1,
      dryRun: false,
      resumeOf: null,
      shutdown: new AbortController().signal,
    });
    expect(outcome.status).toBe("succeeded");
    expect(seen).toHaveLength(1);
    const text = JSON.stringify(seen[0]);
    expect(text).not.toContain("secret0123456789");
    expect(text).not.toContain("pw-secret");
    expect(seen[0]?.markdown).toBe("Could not read: Feed (https://feeds.example.test/rss answered 401)");
    expect(seen[0]?.title).toBe("failed with [redacted]");
    expect(seen[0]?.files?.[1]?.content).toBe(bytes);
  });
});
