/**
 * Feeds as sources, against the loopback feed emulator: RSS, Atom and JSON parse to stable items;
 * conditional requests make an unchanged feed a 304 that returns the cached items; rate limits and
 * 5xx are retried with retry-after; other failures name the source and the cause.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { isRetryable } from "../../src/errors.ts";
import { createFeedFetcher, type FeedSource, type HttpCache } from "../../src/integrations/feeds/feeds.ts";
import { createMemoryHttpCache } from "../helpers/http-cache.ts";
import { startFeedEmulator, type FeedEmulator } from "../emulators/feeds.ts";

const RSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Example</title>
<item><title><![CDATA[Tips & <tricks>]]></title><link>https://example.org/posts/1</link><guid isPermaLink="false">post-1</guid>
<pubDate>Mon, 06 Jan 2025 10:00:00 +0100</pubDate>
<description>&lt;p&gt;Caf&amp;eacute; &lt;b&gt;society&lt;/b&gt;&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</description></item>
<item><title>Caf&amp;#233; &amp;amp; bar</title><link>/posts/2</link><dc:date>2025-01-07T08:30:00Z</dc:date>
<content:encoded><![CDATA[<p>Only <em>encoded</em>&nbsp;content</p>]]></content:encoded></item>
<item><title>No guid, no link</title><pubDate>Wed, 08 Jan 2025 12:00:00 GMT</pubDate></item>
</channel></rss>`;

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom example</title>
<entry><id>urn:uuid:1</id><title type="html">A &amp;amp; B &lt;i&gt;styled&lt;/i&gt;</title>
<link rel="self" href="https://example.org/self/1"/><link rel="alternate" type="text/html" href="https://example.org/a/1"/>
<published>2025-02-01T10:00:00+02:00</published><updated>2025-02-02T00:00:00Z</updated><summary type="text">Plain &lt;b&gt; text</summary></entry>
<entry><title>Second</title><link href="https://example.org/a/2"/><updated>2025-02-03T00:00:00Z</updated>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One &amp; two</p><p>Three <b>bold</b> end</p></div></content></entry>
</feed>`;

const XML = "application/rss+xml";
const JSON_TYPE = "application/json";
const silent = pino({ level: "silent" });
let emulator: FeedEmulator;
let pathCount = 0;

beforeAll(async () => {
  emulator = await startFeedEmulator();
});
afterAll(() => emulator.close());

/** A fresh path per test, so recorded requests and faults never leak between tests. */
function serve(
  body: string | Uint8Array,
  options: { contentType?: string; etag?: string; lastModified?: string } = {},
): string {
  const path = `/feed-${++pathCount}`;
  emulator.setFeed(path, { body, contentType: options.contentType ?? XML, ...options });
  return path;
}
const requestsTo = (path: string) => emulator.requests.filter((request) => request.path.startsWith(path));
const fetcher = (cache: HttpCache = createMemoryHttpCache(), signal = new AbortController().signal) =>
  createFeedFetcher({ env: {}, signal, log: silent, cache, retries: 2 });
const rss = (path: string, name?: string): FeedSource => ({
  type: "rss",
  url: `${emulator.url}${path}`,
  ...(name ? { name } : {}),
});

describe("parsing", () => {
  it("reads RSS: guid, link or hash ids, CDATA and double-escaped entities, HTML summaries, RFC 822 and dc:date", async () => {
    const path = serve(RSS);
    const items = await fetcher()(rss(path, "Example"));
    expect(items[0]).toEqual({
      id: "post-1",
      title: "Tips & <tricks>",
      url: "https://example.org/posts/1",
      summary: "Café society",
      publishedAt: "2025-01-06T09:00:00.000Z",
      source: "Example",
    });
    expect(items[1]).toEqual({
      id: `${emulator.url}/posts/2`,
      title: "Café & bar",
      url: `${emulator.url}/posts/2`,
      summary: "Only encoded content",
      publishedAt: "2025-01-07T08:30:00.000Z",
      source: "Example",
    });
    expect(items[2]?.id).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(items[2]).toMatchObject({ title: "No guid, no link", publishedAt: "2025-01-08T12:00:00.000Z" });
    expect(items[2]).not.toHaveProperty("url");
  });

  it("reads Atom: the alternate link, published before updated, text, html and xhtml constructs", async () => {
    const path = serve(ATOM, { contentType: "application/atom+xml" });
    const [first, second] = await fetcher()({ type: "atom", url: `${emulator.url}${path}?limit=5` });
    expect(first).toEqual({
      id: "urn:uuid:1",
      title: "A & B styled",
      url: "https://example.org/a/1",
      summary: "Plain <b> text",
      publishedAt: "2025-02-01T08:00:00.000Z",
      source: new URL(emulator.url).host,
    });
    expect(second).toMatchObject({
      id: "https://example.org/a/2",
      title: "Second",
      summary: "One & two Three bold end",
      publishedAt: "2025-02-03T00:00:00.000Z",
    });
  });

  it("treats the type as a hint: an rss source serving Atom still parses", async () => {
    const items = await fetcher()(rss(serve(ATOM)));
    expect(items.map((item) => item.id)).toEqual(["urn:uuid:1", "https://example.org/a/2"]);
  });

  it("reads a feed with a single item or entry as a list of one", async () => {
    const one = await fetcher()(
      rss(serve(`<rss><channel><item><guid>only</guid><title>Only one</title></item></channel></rss>`)),
    );
    const entry = await fetcher()(
      rss(serve(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>e1</id><title>Solo</title></entry></feed>`)),
    );
    expect(one).toEqual([{ id: "only", title: "Only one", source: new URL(emulator.url).host }]);
    expect(entry.map((item) => [item.id, item.title])).toEqual([["e1", "Solo"]]);
  });

  it("decodes the charset the document declares, not just UTF-8", async () => {
    const body = Buffer.from(
      `<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item><guid>l1</guid><title>Café</title></item></channel></rss>`,
      "latin1",
    );
    const [item] = await fetcher()(rss(serve(body)));
    expect(item?.title).toBe("Café");
  });

  it("maps a JSON endpoint with a custom itemsPath and field paths", async () => {
    const body = {
      data: {
        posts: [
          {
            slug: "p1",
            headline: "Hello &amp; welcome",
            permalink: "/p/1",
            meta: { created: 1736121600 },
            blurb: "<p>Hi <b>there</b></p>",
          },
        ],
      },
    };
    const path = serve(JSON.stringify(body), { contentType: JSON_TYPE });
    const fields = { id: "slug", title: "headline", url: "permalink", publishedAt: "meta.created", summary: "blurb" };
    const items = await fetcher()({
      type: "json",
      name: "Api",
      url: `${emulator.url}${path}`,
      itemsPath: "data.posts",
      fields,
    });
    expect(items).toEqual([
      {
        id: "p1",
        title: "Hello & welcome",
        url: `${emulator.url}/p/1`,
        summary: "Hi there",
        publishedAt: "2025-01-06T00:00:00.000Z",
        source: "Api",
      },
    ]);
  });

  it("reads JSON Feed 1.1 and a root array with the default fields", async () => {
    const jsonFeed = {
      version: "https://jsonfeed.org/version/1.1",
      title: "JF",
      items: [
        {
          id: "1",
          url: "https://example.org/jf/1",
          title: "JF one",
          content_text: "Text body",
          date_published: "2025-03-01T12:00:00-05:00",
        },
        { id: 2, url: "https://example.org/jf/2", content_html: "<p>No title here</p>" },
      ],
    };
    const items = await fetcher()({
      type: "json",
      url: `${emulator.url}${serve(JSON.stringify(jsonFeed), { contentType: "application/feed+json" })}`,
    });
    expect(items.map(({ id, title, url, summary, publishedAt }) => ({ id, title, url, summary, publishedAt }))).toEqual(
      [
        {
          id: "1",
          title: "JF one",
          url: "https://example.org/jf/1",
          summary: "Text body",
          publishedAt: "2025-03-01T17:00:00.000Z",
        },
        {
          id: "2",
          title: "No title here",
          url: "https://example.org/jf/2",
          summary: "No title here",
          publishedAt: undefined,
        },
      ],
    );
    const root = await fetcher()({
      type: "json",
      url: `${emulator.url}${serve(`[{"url":"https://example.org/r/1","title":"Root"}]`)}`,
    });
    expect(root).toMatchObject([{ id: "https://example.org/r/1", title: "Root" }]);
  });

  it("keeps ids stable across fetches, hashed ones included", async () => {
    const path = serve(RSS);
    const first = await fetcher()(rss(path));
    const second = await fetcher()(rss(path));
    expect(second.map((item) => item.id)).toEqual(first.map((item) => item.id));
    expect(requestsTo(path).map((request) => request.status)).toEqual([200, 200]);
  });

  it("clips long summaries at a word with an ellipsis", async () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
    const [item] = await fetcher()(
      rss(serve(`<rss><channel><item><guid>long</guid><description>${words}</description></item></channel></rss>`)),
    );
    expect(item?.summary?.length).toBeLessThanOrEqual(500);
    expect(item?.summary).toMatch(/word\d+…$/);
  });
});

describe("conditional requests", () => {
  it("sends If-None-Match and returns the cached items on a 304 without reading the body", async () => {
    const path = serve(RSS, { etag: '"v1"' });
    const fetchFeed = fetcher();
    const first = await fetchFeed(rss(path));
    // Same validator, different body: only a 304 that skips parsing can still return the first items.
    emulator.setFeed(path, { body: "<not-a-feed/>", contentType: XML, etag: '"v1"' });
    const second = await fetchFeed(rss(path));
    expect(second).toEqual(first);
    expect(requestsTo(path).map(({ ifNoneMatch, status }) => ({ ifNoneMatch, status }))).toEqual([
      { ifNoneMatch: undefined, status: 200 },
      { ifNoneMatch: '"v1"', status: 304 },
    ]);
  });

  it("sends If-Modified-Since from Last-Modified", async () => {
    const lastModified = "Wed, 01 Jan 2025 00:00:00 GMT";
    const path = serve(ATOM, { lastModified });
    const fetchFeed = fetcher();
    const first = await fetchFeed(rss(path));
    expect(await fetchFeed(rss(path))).toEqual(first);
    expect(requestsTo(path).at(-1)).toMatchObject({ ifModifiedSince: lastModified, status: 304 });
  });

  it("returns the new items when the feed changed, and remembers the new validator", async () => {
    const path = serve(RSS, { etag: '"v1"' });
    const fetchFeed = fetcher();
    await fetchFeed(rss(path));
    emulator.setFeed(path, { body: ATOM, contentType: XML, etag: '"v2"' });
    expect((await fetchFeed(rss(path))).map((item) => item.id)).toEqual(["urn:uuid:1", "https://example.org/a/2"]);
    await fetchFeed(rss(path));
    expect(requestsTo(path).map(({ ifNoneMatch, status }) => [ifNoneMatch, status])).toEqual([
      [undefined, 200],
      ['"v1"', 200],
      ['"v2"', 304],
    ]);
  });

  it("keys the cache by everything that shapes the items, never storing the query string in the key", async () => {
    const path = serve(RSS, { etag: '"v1"' });
    const cache = createMemoryHttpCache();
    const url = `${emulator.url}${path}?token=s3cret`;
    await fetcher(cache)({ type: "rss", name: "Old", url });
    const renamed = await fetcher(cache)({ type: "rss", name: "New", url });
    expect(renamed[0]?.source).toBe("New");
    expect(requestsTo(path).map((request) => request.status)).toEqual([200, 200]);
    expect([...cache.entries.keys()].join()).not.toContain("s3cret");
  });
});

describe("failures", () => {
  it("waits for retry-after on a 429, then succeeds", async () => {
    const path = serve(RSS);
    emulator.failNext(path, 1, { status: 429, retryAfter: 1 });
    const started = Date.now();
    expect(await fetcher()(rss(path))).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(requestsTo(path).map((request) => request.status)).toEqual([429, 200]);
  });

  it("retries a 5xx, then succeeds", async () => {
    const path = serve(RSS);
    emulator.failNext(path, 1, { status: 503 });
    expect(await fetcher()(rss(path))).toHaveLength(3);
    expect(requestsTo(path).map((request) => request.status)).toEqual([503, 200]);
  });

  it("fails a 404 at once, naming the source and never the query string", async () => {
    const error = await fetcher()({ type: "rss", name: "Gone", url: `${emulator.url}/missing.xml?token=s3cret` }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(/Feed Gone: HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/missing\.xml/);
    expect(String(error)).not.toContain("s3cret");
    expect(isRetryable(error)).toBe(false);
    expect(requestsTo("/missing.xml")).toHaveLength(1);
  });

  it("fails clearly on malformed XML and on a document that is not a feed", async () => {
    const path = serve(RSS);
    emulator.failNext(path, 1, { status: 200, body: "<rss><channel><item></channel></rss>" });
    await expect(fetcher()(rss(path, "Example"))).rejects.toThrow(
      /^Feed Example: not valid RSS\/Atom: Expected closing tag 'item'.*\(line 1, column \d+\)/,
    );
    await expect(fetcher()(rss(serve("<html><body><p>Maintenance</p></body></html>"), "Example"))).rejects.toThrow(
      "Feed Example: not valid RSS/Atom: the root element is <html>, expected <rss>, <feed> or <rdf:RDF>",
    );
  });

  it("fails clearly on malformed JSON, a path that is not an array, and a field that is not text", async () => {
    const api = (body: string, extra: object = {}): FeedSource => ({
      type: "json",
      name: "Api",
      url: `${emulator.url}${serve(body, { contentType: JSON_TYPE })}`,
      ...extra,
    });
    await expect(fetcher()(api("{not json"))).rejects.toThrow(/^Feed Api: not valid JSON: /);
    await expect(fetcher()(api(`{"data":{"items":{"a":1}}}`, { itemsPath: "data.items" }))).rejects.toThrow(
      /^Feed Api: itemsPath "data.items" is not an array \(found an object with keys a\)/,
    );
    await expect(fetcher()(api(`{"results":[]}`))).rejects.toThrow(
      /neither an array nor an object with an "items" array; set itemsPath/,
    );
    await expect(fetcher()(api(`[{"id":1,"title":{"rendered":"x"}}]`))).rejects.toThrow(
      /item 0: "title" is an object with keys rendered, not a string or number/,
    );
  });

  it("cuts off a slow source when the signal fires", async () => {
    const path = serve(RSS);
    emulator.failNext(path, 1, { status: 200, delayMs: 5000 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    await expect(fetcher(createMemoryHttpCache(), controller.signal)(rss(path))).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("refuses a url that is not http(s) without sending anything", async () => {
    const before = emulator.requests.length;
    await expect(fetcher()({ type: "rss", name: "Local", url: "file:///etc/passwd" })).rejects.toThrow(
      /^Feed Local: the url is not an http\(s\) URL/,
    );
    expect(emulator.requests.length).toBe(before);
  });
});
