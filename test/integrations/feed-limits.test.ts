/**
 * Feeds against hostile servers: bodies past the source's byte limit fail it with a clear error and
 * the connection is closed early (memory does not follow the server); redirects are followed only
 * within reason; credentials come from named variables or URL userinfo, and never reach a reader.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRetryable } from "../../src/errors.ts";
import { createFeedFetcher, type FeedSource } from "../../src/integrations/feeds/feeds.ts";
import { createMemoryHttpCache } from "../helpers/http-cache.ts";
import { createScrubber } from "../../src/log.ts";
import { startFeedEmulator, type FeedEmulator } from "../emulators/feeds.ts";

const MB = 1024 * 1024;
const silent = pino({ level: "silent" });
const RSS = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>One</title><guid>g1</guid><link>/posts/1</link></item></channel></rss>`;

let emulator: FeedEmulator;
let internal: FeedEmulator;
beforeAll(async () => {
  [emulator, internal] = await Promise.all([startFeedEmulator(), startFeedEmulator()]);
});
afterAll(() => Promise.all([emulator.close(), internal.close()]));

const fetcher = (options: Partial<Parameters<typeof createFeedFetcher>[0]> = {}) =>
  createFeedFetcher({
    env: {},
    signal: new AbortController().signal,
    log: silent,
    cache: createMemoryHttpCache(),
    retries: 0,
    ...options,
  });
const failure = (work: Promise<unknown>) =>
  work.then(
    () => expect.fail("should have failed"),
    (error: unknown) => error as Error,
  );
const requestsTo = (on: FeedEmulator, path: string) => on.requests.filter((request) => request.path === path);

describe("body limits", () => {
  it("refuses a body whose content-length is past the limit before reading it, and says how to allow it", async () => {
    emulator.setFeed("/declared", {
      body: "",
      contentType: "application/rss+xml",
      streamBytes: 64 * MB,
      contentLength: 64 * MB,
    });
    const url = `${emulator.url}/declared`;
    const error = await failure(fetcher()({ type: "rss", url }));
    expect(error.message).toBe(
      `Feed ${new URL(url).host}: feed ${url} answered more than 5 MB; raise maxBytes on that source (now 5 MB) if it is expected`,
    );
    expect(isRetryable(error)).toBe(false);
    await expect.poll(() => requestsTo(emulator, "/declared")[0]?.closedEarly).toBe(true);
    expect(requestsTo(emulator, "/declared")[0]?.bytesSent).toBeLessThan(16 * MB);
  });

  it("stops reading a body without content-length once it passes the limit, and closes the connection", async () => {
    emulator.setFeed("/endless", { body: "", contentType: "application/rss+xml", streamBytes: 256 * MB });
    const before = process.memoryUsage().rss;
    const error = await failure(fetcher()({ type: "rss", url: `${emulator.url}/endless`, maxBytes: 2 * MB }));
    expect(error.message).toContain("answered more than 2 MB; raise maxBytes on that source");
    await expect.poll(() => requestsTo(emulator, "/endless")[0]?.closedEarly).toBe(true);
    // The socket's buffers hold a few MB more than was read; nowhere near the 256 MB on offer.
    expect(requestsTo(emulator, "/endless")[0]?.bytesSent).toBeLessThan(24 * MB);
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * MB);
  });

  it("reads a body under a raised limit", async () => {
    const padding = `<!-- ${"x".repeat(6 * MB)} -->`;
    emulator.setFeed("/big-ok", {
      body: RSS.replace("<channel>", `<channel>${padding}`),
      contentType: "application/rss+xml",
    });
    const items = await fetcher()({ type: "rss", url: `${emulator.url}/big-ok`, maxBytes: 8 * MB });
    expect(items.map((item) => item.id)).toEqual(["g1"]);
  });

  it("reads at most 64 KB of an error body", async () => {
    emulator.failNext("/huge-error", 1, { status: 404, body: `Gone ${"e".repeat(4 * MB)}` });
    const error = await failure(fetcher()({ type: "rss", url: `${emulator.url}/huge-error` }));
    expect(error.message).toMatch(/HTTP 404 .*: Gone e+$/);
    expect(error.message.length).toBeLessThan(1000);
  });
});

describe("redirects", () => {
  /** The test's network: feed.example.test is served by the emulator; its address is judged as a public one. */
  const publicName = "feed.example.test";
  const network = { resolve: async (host: string) => (host === publicName ? ["203.0.113.7"] : ["127.0.0.1"]) };
  const routed: typeof fetch = (input, init) => fetch(String(input).replace(`//${publicName}:`, "//127.0.0.1:"), init);
  const publicUrl = (path: string) => `http://${publicName}:${new URL(emulator.url).port}${path}`;

  it("follows a redirect within the source's own host", async () => {
    emulator.setFeed("/moved", {
      body: "",
      contentType: "text/plain",
      redirect: { status: 301, location: "/moved-here" },
    });
    emulator.setFeed("/moved-here", { body: RSS, contentType: "application/rss+xml" });
    const items = await fetcher({ network, fetch: routed })({ type: "rss", url: publicUrl("/moved") });
    expect(items[0]).toMatchObject({ id: "g1", url: `${publicUrl("/posts/1")}` });
  });

  it("refuses a redirect from a public address to a loopback one, and never asks it", async () => {
    internal.setFeed("/secret", { body: RSS, contentType: "application/rss+xml" });
    emulator.setFeed("/to-internal", {
      body: "",
      contentType: "text/plain",
      redirect: { status: 302, location: `${internal.url}/secret` },
    });
    const error = await failure(fetcher({ network, fetch: routed })({ type: "rss", url: publicUrl("/to-internal") }));
    expect(error.message).toContain(
      `redirected to ${internal.url}/secret, a private, loopback or link-local address; not followed`,
    );
    expect(isRetryable(error)).toBe(false);
    expect(requestsTo(internal, "/secret")).toHaveLength(0);
  });

  it("follows a redirect between loopback addresses when the source itself is on loopback", async () => {
    internal.setFeed("/lan", { body: RSS, contentType: "application/rss+xml" });
    emulator.setFeed("/to-lan", {
      body: "",
      contentType: "text/plain",
      redirect: { status: 307, location: `${internal.url}/lan` },
    });
    expect(await fetcher()({ type: "rss", url: `${emulator.url}/to-lan` })).toHaveLength(1);
  });

  it("gives up after 5 redirects", async () => {
    for (let i = 0; i < 7; i++)
      emulator.setFeed(`/hop-${i}`, {
        body: "",
        contentType: "text/plain",
        redirect: { status: 302, location: `/hop-${i + 1}` },
      });
    const error = await failure(fetcher()({ type: "rss", url: `${emulator.url}/hop-0` }));
    expect(error.message).toContain("redirected more than 5 times");
    expect(emulator.requests.filter((request) => request.path.startsWith("/hop-"))).toHaveLength(6);
  });

  it("refuses a redirect from https down to http", async () => {
    const https: typeof fetch = async (input) => {
      expect(String(input)).toBe("https://secure.example.test/feed");
      return new Response(null, { status: 301, headers: { location: `${emulator.url}/moved-here` } });
    };
    const error = await failure(
      fetcher({ fetch: https, network })({ type: "rss", url: "https://secure.example.test/feed" }),
    );
    expect(error.message).toContain("redirected from https down to http");
  });

  it("does not carry credentials to another origin", async () => {
    internal.setFeed("/elsewhere", { body: RSS, contentType: "application/rss+xml" });
    emulator.setFeed("/cross", {
      body: "",
      contentType: "text/plain",
      redirect: { status: 302, location: `${internal.url}/elsewhere` },
    });
    const env = { FEED_TOKEN: "Bearer feed-token-123456" };
    await fetcher({ env })({ type: "rss", url: `${emulator.url}/cross`, headersEnv: { Authorization: "FEED_TOKEN" } });
    expect(requestsTo(emulator, "/cross")[0]?.headers.authorization).toBe("Bearer feed-token-123456");
    expect(requestsTo(internal, "/elsewhere")[0]?.headers.authorization).toBeUndefined();
  });
});

describe("credentials", () => {
  it("sends headers from named variables and registers their values as secrets", async () => {
    emulator.setFeed("/private", { body: RSS, contentType: "application/rss+xml" });
    const env = { PRIVATE_FEED_AUTH: "Token a1b2c3d4e5f6" };
    await fetcher({ env })({
      type: "rss",
      url: `${emulator.url}/private`,
      headersEnv: { Authorization: "PRIVATE_FEED_AUTH", "X-Extra": "PRIVATE_FEED_AUTH" },
    });
    expect(requestsTo(emulator, "/private")[0]?.headers).toMatchObject({
      authorization: "Token a1b2c3d4e5f6",
      "x-extra": "Token a1b2c3d4e5f6",
    });
    // PRIVATE_FEED_AUTH's name does not look secret; the scrubber knows its value all the same.
    expect(createScrubber({})("sent Token a1b2c3d4e5f6")).toBe("sent [redacted]");
  });

  it("fails clearly when a named variable is not set", async () => {
    const error = await failure(
      fetcher()({ type: "rss", url: `${emulator.url}/private`, headersEnv: { Authorization: "MISSING_FEED_TOKEN" } }),
    );
    expect(error.message).toContain("headersEnv.Authorization names MISSING_FEED_TOKEN, which is not set");
  });

  it("turns URL userinfo into Basic auth and keeps it out of items, names and errors", async () => {
    emulator.setFeed("/basic", { body: RSS, contentType: "application/rss+xml" });
    const port = new URL(emulator.url).port;
    const source: FeedSource = { type: "rss", url: `http://reader:s3cret-pass@127.0.0.1:${port}/basic` };
    const items = await fetcher()(source);
    expect(requestsTo(emulator, "/basic")[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("reader:s3cret-pass").toString("base64")}`,
    );
    expect(JSON.stringify(items)).not.toMatch(/reader|s3cret/);
    expect(items[0]).toMatchObject({ url: `http://127.0.0.1:${port}/posts/1`, source: `127.0.0.1:${port}` });
    const error = await failure(fetcher()({ type: "rss", url: `http://reader:s3cret-pass@127.0.0.1:${port}/missing` }));
    expect(error.message).not.toMatch(/reader|s3cret/);
  });
});
