/**
 * data-digest's `sourceTimeout` aborts a slow source's fetch (the server sees the connection
 * closed), for feeds and GitHub alike, instead of abandoning it to finish in the background.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatherSources } from "../../skills/data-digest/gather.ts";
import { createFeedFetcher } from "../../src/integrations/feeds/feeds.ts";
import { createMemoryHttpCache } from "../helpers/http-cache.ts";
import { createGitHubSource } from "../../src/integrations/github/source.ts";
import type { SkillContext, SourceSpec } from "../../src/types.ts";
import { startFeedEmulator, type FeedEmulator } from "../emulators/feeds.ts";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.ts";

const log = pino({ level: "silent" });
let feeds: FeedEmulator;
let github: GitHubEmulator;
beforeAll(async () => {
  [feeds, github] = await Promise.all([startFeedEmulator(), startGitHubEmulator()]);
  github.addRepo("acme/slow");
});
afterAll(() => Promise.all([feeds.close(), github.close()]));

function context() {
  const signal = new AbortController().signal;
  const feed = createFeedFetcher({ env: {}, signal, log, cache: createMemoryHttpCache(), retries: 0 });
  const repo = createGitHubSource({ env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url }, signal, log });
  return {
    log,
    signal,
    step: async <T>(_id: string, fn: () => Promise<T>) => fn(),
    parallel: <I, O>(list: readonly I[], fn: (item: I, index: number) => Promise<O>) => Promise.all(list.map(fn)),
    sources: {
      youtube: { channelVideos: async () => [], transcript: async () => [] },
      fetch: (source: SourceSpec, options?: { since?: string | null; signal?: AbortSignal }) =>
        source.type === "github" ? repo(source, options) : feed(source, options),
    },
  } as unknown as Pick<SkillContext, "step" | "sources" | "log" | "signal" | "parallel">;
}

describe("sourceTimeout", () => {
  it("aborts the slow sources' requests and reports them, keeping the others", async () => {
    feeds.setFeed("/slow.xml", {
      contentType: "application/rss+xml",
      body: `<rss version="2.0"><channel><title>t</title></channel></rss>`,
    });
    feeds.failNext("/slow.xml", 1, { status: 200, delayMs: 10_000 });
    feeds.setFeed("/fast.xml", {
      contentType: "application/rss+xml",
      body: `<rss version="2.0"><channel><title>t</title><item><title>Fast</title><guid>f1</guid></item></channel></rss>`,
    });
    github.failNext(1, { delayMs: 10_000, path: "/releases" });
    const sources: SourceSpec[] = [
      { type: "rss", url: `${feeds.url}/slow.xml`, name: "Slow feed" },
      { type: "rss", url: `${feeds.url}/fast.xml`, name: "Fast feed" },
      { type: "github", repo: "acme/slow" },
    ];
    const started = Date.now();
    const gathered = await gatherSources(context(), sources, { timeoutMs: 2000, since: null });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(gathered.items.map((item) => item.id)).toEqual(["f1"]);
    expect(gathered.failures).toEqual([
      { name: "Slow feed", cause: "no answer within 2s", retryable: true },
      { name: "acme/slow", cause: "no answer within 2s", retryable: true },
    ]);
    await expect.poll(() => feeds.requests.find((request) => request.path === "/slow.xml")?.closedEarly).toBe(true);
    await expect
      .poll(() => github.requests.find((request) => request.path === "/repos/acme/slow/releases")?.closedEarly)
      .toBe(true);
  });
});

describe("source labels", () => {
  it("never carry URL credentials, even for a URL that does not parse", async () => {
    const { sourceLabel } = await import("../../skills/data-digest/gather.ts");
    expect(sourceLabel({ type: "rss", url: "https://reader:s3cret@example.com/feed.xml?key=k" })).toBe(
      "example.com/feed.xml",
    );
    expect(sourceLabel({ type: "rss", url: "https://reader:s3cret@exa mple.com/feed.xml?key=k" })).toBe(
      "https://exa mple.com/feed.xml",
    );
  });
});
