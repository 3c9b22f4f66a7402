/**
 * Hostile text: 1 MB inputs shaped to make a backtracking parser quadratic (an opener whose closer
 * never comes) go through the feed and GitHub parsers in well under two seconds each, and a feed
 * with thousands of items is cut to the source's item cap.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFeedFetcher } from "../../src/integrations/feeds/feeds.ts";
import { createMemoryHttpCache } from "../helpers/http-cache.ts";
import { htmlToText } from "../../src/integrations/feeds/parse-xml.ts";
import { createGitHubSource } from "../../src/integrations/github/source.ts";
import { startFeedEmulator, type FeedEmulator } from "../emulators/feeds.ts";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.ts";

const MB = 1024 * 1024;
const silent = pino({ level: "silent" });
/** Generous: the linear code takes milliseconds; the quadratic code took minutes on 1 MB. */
const BOUND_MS = 2000;
/**
 * A whole 1 MB feed also goes through the XML parser (linear, about half a second per MB on a quiet
 * machine, more on a shared one); the quadratic HTML step took minutes at this size.
 */
const FEED_BOUND_MS = 10_000;

const fill = (unit: string, tail = ""): string => unit.repeat(Math.ceil((MB - tail.length) / unit.length)) + tail;

/** Each shape is about 1 MB; each opens something that a lazy regex would search the rest for, again and again. */
const SHAPES: Record<string, string> = {
  "unclosed <p": fill("<p "),
  "unclosed <p after real text": `<p>Hello</p> ${fill("<p")}`,
  "unclosed comments": fill("<!--"),
  "unclosed CDATA": fill("<![CDATA[x"),
  "unclosed script": fill("<script>"),
  "deep nesting": fill("<div><span>"),
  "entity flood": fill("&"),
  "unterminated entities": fill("&#1234567"),
  "long attribute": `<a href="${fill("x")}`,
  "closing tags without openers": fill("</p"),
};

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

describe("HTML to text on 1 MB of hostile input", () => {
  for (const [shape, html] of Object.entries(SHAPES)) {
    it(`is linear on ${shape}`, () => {
      const { value, ms } = timed(() => htmlToText(html));
      expect(ms).toBeLessThan(BOUND_MS);
      expect(value).not.toContain("<p");
    });
  }

  it("still reads ordinary markup the same way", () => {
    expect(
      htmlToText("<p>Caf&eacute; <b>society</b></p><script>alert(1)</script><!-- c --><![CDATA[ kept ]]> a < b"),
    ).toBe("Café society kept a < b");
  });
});

describe("feeds carrying hostile items", () => {
  let emulator: FeedEmulator;
  beforeAll(async () => {
    emulator = await startFeedEmulator();
  });
  afterAll(() => emulator.close());
  const fetcher = () =>
    createFeedFetcher({
      env: {},
      signal: new AbortController().signal,
      log: silent,
      cache: createMemoryHttpCache(),
      retries: 1,
    }); // one retry: a kept-alive socket may close after a long parse
  const xmlText = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  for (const shape of ["unclosed <p", "unclosed comments", "long attribute", "entity flood"]) {
    it(`parses a 1 MB description of ${shape} in bounded time`, async () => {
      const description = xmlText(SHAPES[shape] as string);
      emulator.setFeed(`/hostile-${shape.length}`, {
        contentType: "application/rss+xml",
        body: `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Hostile</title><guid>h1</guid><description>${description}</description></item></channel></rss>`,
      });
      const started = performance.now();
      // Escaped for XML, a 1 MB "&" flood is 5 MB of "&amp;": the limit is raised so the parser is what is measured.
      const items = await fetcher()({ type: "rss", url: `${emulator.url}/hostile-${shape.length}`, maxBytes: 16 * MB });
      expect(performance.now() - started).toBeLessThan(FEED_BOUND_MS);
      expect(items).toHaveLength(1);
      expect(items[0]?.summary?.length ?? 0).toBeLessThanOrEqual(500);
    }, 30_000);
  }

  it("keeps only the first `maxItems` items of a feed (100 by default)", async () => {
    const items = Array.from(
      { length: 3000 },
      (_, i) => `<item><title>Item ${i}</title><guid>g${i}</guid></item>`,
    ).join("");
    emulator.setFeed("/many", {
      contentType: "application/rss+xml",
      body: `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>${items}</channel></rss>`,
    });
    const url = `${emulator.url}/many`;
    const byDefault = await fetcher()({ type: "rss", url });
    expect(byDefault.map((item) => item.id)).toEqual(Array.from({ length: 100 }, (_, i) => `g${i}`));
    expect(await fetcher()({ type: "rss", url, maxItems: 7 })).toHaveLength(7);
  });

  it("keeps only the first `maxItems` items of a JSON feed", async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ id: `j${i}`, title: `Item ${i}` }));
    emulator.setFeed("/many.json", { contentType: "application/json", body: JSON.stringify({ items }) });
    expect(await fetcher()({ type: "json", url: `${emulator.url}/many.json` })).toHaveLength(100);
  });
});

describe("GitHub bodies carrying hostile text", () => {
  let github: GitHubEmulator;
  beforeAll(async () => {
    github = await startGitHubEmulator();
  });
  afterAll(() => github.close());

  it("summarises 1 MB pull request and release bodies of unclosed comments in bounded time", async () => {
    const repo = github.addRepo("acme/hostile");
    const at = new Date(Date.now() - 3_600_000).toISOString();
    repo.addPull({
      number: 1,
      title: "Hostile",
      state: "closed",
      mergedAt: at,
      updatedAt: at,
      createdAt: at,
      body: `Real text. ${fill("<!--")}`,
    });
    repo.addRelease({ id: 1, tagName: "v1", body: `Notes ${fill("<!-- x")}`, createdAt: at, publishedAt: at });
    const source = createGitHubSource({
      env: { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url },
      signal: new AbortController().signal,
      log: silent,
    });
    const started = performance.now();
    const items = await source({ type: "github", repo: "acme/hostile" });
    expect(performance.now() - started).toBeLessThan(BOUND_MS * 2);
    expect(items.map((item) => item.summary).sort()).toEqual(["Notes", "Real text."]);
  }, 30_000);
});
