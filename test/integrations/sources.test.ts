/**
 * @module sources.test — the registry of source kinds: the schema skills put in their params, the
 * environment each source needs, and `ctx.sources.fetch` sending each source to its kind's fetch
 * (feeds served by the loopback feed emulator, through the real feeds module).
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryHttpCache } from "../helpers/http-cache.ts";
import {
  createSourceFetch,
  requiredSourceEnv,
  sourceDefinitions,
  sourceSpecSchema,
} from "../../src/integrations/sources/index.ts";
import { startFeedEmulator, type FeedEmulator } from "../emulators/feeds.ts";

const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>From RSS</title><link>https://example.org/1</link><guid>rss-1</guid></item></channel></rss>`;
const JSON_FEED = JSON.stringify({
  data: { entries: [{ key: "j-1", headline: "From JSON", link: "https://example.org/j" }] },
});

let emulator: FeedEmulator;
beforeAll(async () => {
  emulator = await startFeedEmulator();
});
afterAll(() => emulator.close());

describe("source kinds", () => {
  it("each answer to their own types, and the schema admits exactly those", () => {
    const types = sourceDefinitions.flatMap((definition) => [...definition.types]);
    expect(types.sort()).toEqual(["atom", "github", "json", "rss"]);
    expect(new Set(types).size).toBe(types.length);
    const error = sourceSpecSchema.safeParse({ type: "gopher", url: "https://example.org" });
    expect(error.success).toBe(false);
    expect(sourceSpecSchema.safeParse({ type: "github", repo: "nope" }).error?.issues[0]?.message).toBe(
      'write the repository as "owner/name"',
    );
    expect(sourceSpecSchema.safeParse({ type: "rss", url: "ftp://example.org/feed" }).success).toBe(false);
  });

  it("say which environment variables a source needs", () => {
    expect(requiredSourceEnv(sourceSpecSchema.parse({ type: "github", repo: "a/b" }))).toEqual(["GITHUB_TOKEN"]);
    expect(
      requiredSourceEnv(
        sourceSpecSchema.parse({
          type: "rss",
          url: "https://example.org/f",
          headersEnv: { Authorization: "FEED_TOKEN" },
        }),
      ),
    ).toEqual(["FEED_TOKEN"]);
    expect(requiredSourceEnv(sourceSpecSchema.parse({ type: "json", url: "https://example.org/f" }))).toEqual([]);
  });

  it("fetch each source with its kind's fetcher", async () => {
    emulator.setFeed("/feed.xml", { body: RSS, contentType: "application/rss+xml" });
    emulator.setFeed("/items.json", { body: JSON_FEED, contentType: "application/json" });
    const fetch = createSourceFetch({
      env: { FEED_TOKEN: "feed-secret-token" },
      signal: new AbortController().signal,
      log: pino({ level: "silent" }),
      cache: createMemoryHttpCache(),
    });
    const rss = await fetch(
      sourceSpecSchema.parse({
        type: "rss",
        url: `${emulator.url}/feed.xml`,
        name: "r",
        headersEnv: { Authorization: "FEED_TOKEN" },
      }),
    );
    const json = await fetch(
      sourceSpecSchema.parse({
        type: "json",
        url: `${emulator.url}/items.json`,
        name: "j",
        itemsPath: "data.entries",
        fields: { id: "key", title: "headline", url: "link" },
      }),
    );
    expect(rss.map((item) => [item.id, item.title])).toEqual([["rss-1", "From RSS"]]);
    expect(json.map((item) => [item.id, item.title, item.url])).toEqual([
      ["j-1", "From JSON", "https://example.org/j"],
    ]);
    expect(emulator.requests.find((request) => request.path === "/feed.xml")?.headers.authorization).toBe(
      "feed-secret-token",
    );
  });
});
