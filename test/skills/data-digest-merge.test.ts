/**
 * data-digest merges one story told by several sources into one item naming them all (same URL
 * once tracking parameters are set aside, or the same title from two feeds), and orders the new
 * items by fit to `focus` before `maxItems` cuts: locally without Claude, by Claude's ranking with it.
 */
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import skill from "../../skills/data-digest/index.ts";
import { canonicalUrl, mergeStories, normalTitle } from "../../skills/data-digest/merge.ts";
import { relevance } from "../../skills/data-digest/rank.ts";
import { markDigested, selectNewItems } from "../../skills/data-digest/select.ts";
import { DataDigestParams } from "../../skills/data-digest/params.ts";
import { createIntegrations } from "../../src/integrations/index.ts";
import type { IntegrationRequest } from "../../src/run/runner.ts";
import type { ClaudeStructuredRequest, FeedItem, Output, SkillContext } from "../../src/types.ts";
import { startFeedEmulator, type FeedEmulator } from "../emulators/feeds.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const item = (id: string, source: string, extra: Partial<FeedItem> = {}): FeedItem => ({
  id,
  title: `Title of ${id}`,
  url: `https://example.com/${id}`,
  source,
  publishedAt: new Date(NOW - 3_600_000).toISOString(),
  ...extra,
});

describe("one story, one item", () => {
  it("canonical URLs ignore tracking parameters, www, the scheme, the fragment and a trailing slash, and keep the rest", () => {
    const plain = canonicalUrl("https://example.com/post/42?page=2&id=7");
    expect(
      canonicalUrl(
        "http://www.Example.com/post/42/?utm_source=rss&utm_medium=feed&id=7&fbclid=x&page=2&gclid=y&ref=hn#comments",
      ),
    ).toBe(plain);
    expect(plain).toBe("example.com/post/42?id=7&page=2");
    expect(canonicalUrl("https://example.com/post/42?page=3&id=7")).not.toBe(plain);
    expect(canonicalUrl("javascript:alert(1)")).toBeNull();
    expect(canonicalUrl(undefined)).toBeNull();
  });

  it("merges by canonical URL or by the same long title across sources, naming every source once, keeping the newest date", () => {
    const merged = mergeStories([
      item("a1", "Alpha", { url: "https://news.example/story?utm_campaign=x", title: "Postgres 19 released" }),
      item("b1", "Beta", {
        url: "https://www.news.example/story/",
        title: "PostgreSQL 19 is out",
        publishedAt: new Date(NOW - 60_000).toISOString(),
      }),
      item("c1", "Gamma", { url: "https://mirror.example/p/1", title: "SQLite adds a new WAL mode today" }),
      item("d1", "Delta", { url: "https://other.example/x", title: "SQLite adds a new WAL mode — today!" }),
      item("a2", "Alpha", { title: "Weekly update", url: "https://alpha.example/w1" }),
      item("b2", "Beta", { title: "Weekly update", url: "https://beta.example/w1" }),
      item("c2", "Gamma", { title: "Notes from the meeting on Friday", url: "https://gamma.example/1" }),
      item("c3", "Gamma", { title: "Notes from the meeting on Friday", url: "https://gamma.example/2" }),
    ]);
    expect(merged.map((story) => [story.id, story.sources, story.ids])).toEqual([
      ["a1", ["Alpha", "Beta"], ["a1", "b1"]],
      ["c1", ["Gamma", "Delta"], ["c1", "d1"]],
      // Short titles prove nothing; one source reusing a title is two posts.
      ["a2", ["Alpha"], ["a2"]],
      ["b2", ["Beta"], ["b2"]],
      ["c2", ["Gamma"], ["c2"]],
      ["c3", ["Gamma"], ["c3"]],
    ]);
    expect(merged[0]?.publishedAt).toBe(new Date(NOW - 60_000).toISOString());
    expect(normalTitle("Weekly update")).toBeNull();
  });

  it("a story any of whose items was digested is not new again, and digesting a story records all its ids", () => {
    const gathered = [
      item("a1", "Alpha", { url: "https://n.example/s" }),
      item("b1", "Beta", { url: "https://n.example/s?utm_source=x" }),
    ];
    const first = selectNewItems(gathered, {}, { now: NOW, maxItems: 10 });
    expect(first.items).toHaveLength(1);
    const digested = markDigested({}, first.items, NOW);
    expect(Object.keys(digested).sort()).toEqual(["a1", "b1"]);
    expect(
      selectNewItems([item("b1", "Beta", { url: "https://n.example/s" })], digested, { now: NOW, maxItems: 10 }).items,
    ).toEqual([]);
  });
});

describe("ordered by fit to the focus before maxItems cuts", () => {
  const gathered = [
    item("new1", "Alpha", { title: "Kubernetes operators explained", publishedAt: new Date(NOW - 1000).toISOString() }),
    item("new2", "Alpha", { title: "A new JavaScript framework", publishedAt: new Date(NOW - 2000).toISOString() }),
    item("old1", "Beta", {
      title: "SQLite WAL checkpoints in practice",
      publishedAt: new Date(NOW - 90_000_000).toISOString(),
    }),
    item("old2", "Beta", {
      title: "Backups",
      summary: "How we back up SQLite databases",
      publishedAt: new Date(NOW - 95_000_000).toISOString(),
    }),
  ];

  it("locally: the focus's words in the title count most, then the summary; without a focus, newest first", () => {
    expect(
      relevance({ title: "SQLite WAL checkpoints", summary: "", sources: ["x"] }, "sqlite databases"),
    ).toBeGreaterThan(relevance({ title: "Backups", summary: "SQLite databases", sources: ["x"] }, "sqlite"));
    expect(
      selectNewItems(gathered, {}, { now: NOW, maxItems: 2, focus: "SQLite and databases" }).items.map((i) => i.id),
    ).toEqual(["old1", "old2"]);
    expect(selectNewItems(gathered, {}, { now: NOW, maxItems: 2 }).items.map((i) => i.id)).toEqual(["new1", "new2"]);
  });

  it("with Claude: more new items than fit are ranked by the model first (by id; unknown ids ignored)", async () => {
    const calls: ClaudeStructuredRequest<unknown>[] = [];
    const state = new Map<string, unknown>();
    const ctx = {
      params: DataDigestParams.parse({
        sources: [{ type: "rss", url: "https://a.example/feed.xml" }],
        focus: "databases",
        maxItems: 2,
      }),
      log: pino({ level: "silent" }),
      signal: new AbortController().signal,
      step: async <T>(_id: string, fn: () => Promise<T> | T) => JSON.parse(JSON.stringify(await fn())) as T,
      state: {
        get: (key: string) => state.get(key),
        set: async (key: string, value: unknown) => void state.set(key, value),
      },
      run: { id: 1, job: "digest", scheduledFor: new Date(NOW).toISOString(), attempt: 1, lastSuccessAt: null },
      parallel: <I, O>(list: readonly I[], fn: (i: I, n: number) => Promise<O>) => Promise.all(list.map(fn)),
      claude: {
        text: async () => "",
        structured: async <T>(request: ClaudeStructuredRequest<T>) => {
          calls.push(request as ClaudeStructuredRequest<unknown>);
          if (request.name === "ranking") {
            const refs = Object.fromEntries(
              [...request.prompt.matchAll(/\[(r\d+)\] ([^\n(]+)/g)].map((m) => [m[2]?.trim(), m[1]]),
            );
            return request.schema.parse({ ids: ["r99", refs["Backups"], refs["A new JavaScript framework"]] });
          }
          return request.schema.parse({ title: "T", intro: "I", groups: [] });
        },
      },
      sources: { youtube: { channelVideos: async () => [], transcript: async () => [] }, fetch: async () => gathered },
      images: { available: false, generate: async () => ({ png: new Uint8Array() }) },
      dryRun: false,
    } as unknown as SkillContext<never>;
    const output = (await skill.run(ctx)) as Output;
    expect(calls.map((call) => call.name)).toEqual(["ranking", "digest"]);
    expect(calls[0]?.prompt).toMatch(/<<<items [0-9a-f]{24}>>>/);
    expect(output.markdown).toContain("Backups");
    expect(output.markdown).toContain("A new JavaScript framework");
    expect(output.markdown).not.toContain("Kubernetes");
    expect(output.markdown).toContain("2 more new items will come in the next digest.");
  });
});

describe("a digest over two real feeds carrying one story", () => {
  let feeds: FeedEmulator;
  beforeEach(async () => {
    feeds = await startFeedEmulator();
  });
  afterEach(async () => {
    await feeds.close();
  });

  const rss = (entries: { guid: string; title: string; link: string }[]) =>
    `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title><link>https://x.example/</link>${entries
      .map(
        (e) =>
          `<item><guid>${e.guid}</guid><title>${e.title}</title><link>${e.link.replace(/&/g, "&amp;")}</link><pubDate>${new Date(NOW - 3_600_000).toUTCString()}</pubDate></item>`,
      )
      .join("")}</channel></rss>`;

  it("lists it once, naming both sources; the next digest does not bring it back from either", async () => {
    feeds.setFeed("/hn.xml", {
      body: rss([
        {
          guid: "hn-1",
          title: "Postgres 19 released",
          link: "https://www.postgresql.org/about/news/pg19/?utm_source=hn&ref=hn",
        },
        { guid: "hn-2", title: "Only here", link: "https://only.example/1" },
      ]),
      contentType: "application/rss+xml",
    });
    feeds.setFeed("/lobsters.xml", {
      body: rss([{ guid: "lb-9", title: "PostgreSQL 19 is out", link: "https://postgresql.org/about/news/pg19#top" }]),
      contentType: "application/rss+xml",
    });
    const integrations = createIntegrations({
      env: {},
      job: { deliver: [] },
      signal: new AbortController().signal,
      log: pino({ level: "silent" }),
      stateSnapshot: new Map(),
      dryRun: true,
    } as unknown as IntegrationRequest);
    const state = new Map<string, unknown>();
    const contextFor = () =>
      ({
        params: DataDigestParams.parse({
          sources: [
            { type: "rss", url: `${feeds.url}/hn.xml`, name: "Hacker News" },
            { type: "rss", url: `${feeds.url}/lobsters.xml`, name: "Lobsters" },
          ],
          synthesize: false,
        }),
        log: pino({ level: "silent" }),
        signal: new AbortController().signal,
        step: async <T>(_id: string, fn: () => Promise<T> | T) => JSON.parse(JSON.stringify(await fn())) as T,
        state: {
          get: (key: string) => state.get(key),
          set: async (key: string, value: unknown) => void state.set(key, value),
        },
        run: { id: 1, job: "digest", scheduledFor: new Date(NOW).toISOString(), attempt: 1, lastSuccessAt: null },
        parallel: <I, O>(list: readonly I[], fn: (i: I, n: number) => Promise<O>) => Promise.all(list.map(fn)),
        claude: { text: async () => "", structured: async () => ({}) },
        sources: integrations.sources,
        images: { available: false, generate: async () => ({ png: new Uint8Array() }) },
        dryRun: false,
      }) as unknown as SkillContext<never>;
    const output = (await skill.run(contextFor())) as Output;
    const lines = output.markdown.split("\n").filter((line) => line.startsWith("- "));
    expect(lines).toHaveLength(2);
    const story = lines.filter((line) => /postgres/i.test(line));
    expect(story).toHaveLength(1);
    expect(story[0]).toContain("also in Lobsters");
    expect(output.markdown).toContain("### Hacker News");
    expect(output.summary).toBe("2 new items from 2 sources");
    await output.onDelivered?.([]);
    expect(await skill.run(contextFor())).toEqual({ skipped: true, reason: "nothing new" });
  });
});
