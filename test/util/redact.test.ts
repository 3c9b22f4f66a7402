/**
 * @module redact.test — the scrubber every outbound text goes through: secrets by name, escaped
 * (JSON once or twice, URL-encoded), `webhookEnv` names of any spelling, URL userinfo; and the
 * ledger applies it to retry errors and delivery details.
 */
import { describe, expect, it } from "vitest";
import { createGrowingScrubber, createScrubber, stripUrlUserinfo } from "../../src/util/redact.ts";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { tempStore } from "../helpers/ledger.ts";
import { mkdtempSync, rmSync } from "node:fs";
import Database from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";

const QUOTED = 'pa"ss\\word-123456';

describe("createScrubber", () => {
  it("replaces a secret in its raw, JSON-escaped (once and twice) and URL-encoded forms", () => {
    const scrub = createScrubber({ DB_PASSWORD: QUOTED });
    const once = JSON.stringify({ error: `failed with ${QUOTED}` });
    const twice = JSON.stringify({ body: once });
    for (const text of [QUOTED, once, twice, `?p=${encodeURIComponent(QUOTED)}`]) {
      const out = scrub(text);
      expect(out, text).toContain("[redacted]");
      expect(out).not.toContain("123456");
    }
  });

  it("knows only names that look secret, and the names it is given (webhookEnv of any spelling)", () => {
    const env = { MY_HOOK_URL: "https://hooks.example.test/abcdef", PLAIN_SETTING: "visible-value" };
    expect(createScrubber(env)("x https://hooks.example.test/abcdef")).toContain("abcdef");
    expect(createScrubber(env, ["MY_HOOK_URL"])("x https://hooks.example.test/abcdef")).toBe("x [redacted]");
    const growing = createGrowingScrubber(env);
    expect(growing("https://hooks.example.test/abcdef")).toContain("abcdef");
    growing.addSecretNames(["MY_HOOK_URL"]);
    expect(growing("https://hooks.example.test/abcdef")).toBe("[redacted]");
    expect(growing("visible-value")).toBe("visible-value");
  });

  it("strips URL userinfo everywhere, leaving the rest of the URL", () => {
    const scrub = createScrubber({});
    expect(scrub("GET https://user:pass@feeds.example.test/rss?x=1 failed")).toBe(
      "GET https://feeds.example.test/rss?x=1 failed",
    );
    expect(scrub('{"url":"http://token@host.test/a"} and ftp://a:b@c.test')).toBe(
      '{"url":"http://host.test/a"} and ftp://c.test',
    );
    expect(stripUrlUserinfo("mail bob@example.test, https://example.test/@user, a://@b")).toBe(
      "mail bob@example.test, https://example.test/@user, a://@b",
    );
  });

  it("is linear on hostile input", () => {
    const scrub = createScrubber({ API_KEY: "k".repeat(40) });
    const started = performance.now();
    scrub(`${"a://".repeat(200_000)}${"x".repeat(1_000_000)}`);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe("the ledger scrubs what it stores", () => {
  it("retry errors, run errors and reasons, step errors and delivery details", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sundial-redact-"));
    const scrub = createScrubber({ GITHUB_TOKEN: "ghp_secretvalue123" });
    const store = openSqliteStore(join(dir, "sundial.db"), { scrub });
    try {
      const [claim] = await store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
        { pid: process.pid, instance: "t" },
        1,
      );
      const runId = claim?.runId as number;
      await store.markRunning(runId, 1, 2);
      await store.markRetrying(runId, 1, "attempt failed: ghp_secretvalue123\x1b[2J");
      expect((await store.getRun(runId))?.error).toBe("attempt failed: [redacted]");
      await store.startStep(runId, "s1", 3);
      await store.failStep(runId, "s1", "step failed: ghp_secretvalue123", 4);
      await store.addDelivery(runId, {
        to: "github-pr",
        url: "https://example.test/pr/1",
        detail: { branch: "b", note: "token ghp_secretvalue123" },
      });
      await store.finishRun(runId, { status: "skipped", reason: "because ghp_secretvalue123" }, 5);
      const run = await store.getRun(runId);
      expect(JSON.stringify(run)).not.toContain("ghp_secretvalue123");
      expect(run?.reason).toBe("because [redacted]");
      expect(run?.steps[0]?.error).toBe("step failed: [redacted]");
      store.close();
      const db = new Database(join(dir, "sundial.db"), { readonly: true });
      const detail = (db.prepare("SELECT detail FROM deliveries").get() as { detail: string }).detail;
      db.close();
      expect(JSON.parse(detail)).toEqual({ branch: "b", note: "token [redacted]" });
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("without a scrubber it stores text as given (so the test above proves the scrubbing)", async () => {
    const ledger = tempStore();
    try {
      const [claim] = await ledger.store.claimRuns(
        [{ job: "j", skill: "s", scheduledFor: 1, trigger: "manual", overlap: "allow" }],
        { pid: process.pid, instance: "t" },
        1,
      );
      await ledger.store.markRetrying(claim?.runId as number, 1, "ghp_secretvalue123");
      expect((await ledger.store.getRun(claim?.runId as number))?.error).toBe("ghp_secretvalue123");
    } finally {
      ledger.cleanup();
    }
  });
});
