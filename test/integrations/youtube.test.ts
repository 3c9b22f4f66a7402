/** YouTube integration against the loopback emulator: feeds, transcripts in both caption formats, faults. */
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NonRetryableError, ServiceError, errorCode, isRetryable } from "../../src/errors.ts";
import { createYouTube, NoTranscriptError } from "../../src/integrations/youtube/youtube.ts";
import { startYouTubeEmulator, type YouTubeEmulator } from "../emulators/youtube.ts";

const CHANNEL = "UCemulatedChannel000001";
const SEGMENTS = [
  { text: "Hello & welcome", start: 0.16, duration: 2.4 },
  { text: "today we build a sundial", start: 2.56, duration: 3.2 },
  { text: "it's easy", start: 65.5, duration: 1.25 },
];

let emulator: YouTubeEmulator;
const youtube = () =>
  createYouTube({
    env: { YOUTUBE_BASE_URL: emulator.url },
    signal: new AbortController().signal,
    log: pino({ level: "silent" }),
  });
const paths = () => emulator.requests.map((request) => `${request.method} ${request.path.split("?")[0]}`);

beforeAll(async () => {
  emulator = await startYouTubeEmulator();
  emulator.addChannel(CHANNEL, [
    { id: "oldVideo001", title: "1984", publishedAt: "2026-01-02T10:00:00+00:00", description: "The older one" },
    {
      id: "newVideo001",
      title: "Sundials & <time>",
      publishedAt: "2026-03-04T08:30:00+01:00",
      description: "The newer one",
    },
  ]);
  emulator.setTranscript("classicVid1", SEGMENTS, { format: "classic" });
  emulator.setTranscript("srv3Video01", SEGMENTS, { format: "srv3" });
  emulator.setTranscript("noCaptions1", [], null);
  emulator.setTranscript("frenchOnly1", SEGMENTS, { format: "classic", lang: "fr" });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.requests.length = 0;
});

describe("channelVideos", () => {
  it("parses the Atom feed into videos, newest first", async () => {
    const videos = await youtube().channelVideos(CHANNEL);
    expect(videos).toEqual([
      {
        id: "newVideo001",
        channelId: CHANNEL,
        title: "Sundials & <time>",
        url: "https://www.youtube.com/watch?v=newVideo001",
        publishedAt: "2026-03-04T07:30:00.000Z",
        description: "The newer one",
      },
      {
        id: "oldVideo001",
        channelId: CHANNEL,
        title: "1984",
        url: "https://www.youtube.com/watch?v=oldVideo001",
        publishedAt: "2026-01-02T10:00:00.000Z",
        description: "The older one",
      },
    ]);
    expect(emulator.requests[0]?.path).toBe(`/feeds/videos.xml?channel_id=${CHANNEL}`);
  });

  it("waits as retry-after asks on 429, then succeeds", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 1 });
    const started = Date.now();
    const videos = await youtube().channelVideos(CHANNEL);
    expect(videos).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.requests).toHaveLength(2);
  });

  it("retries a 5xx, then succeeds", async () => {
    emulator.failNext(1, { status: 503, body: "backend error" });
    expect(await youtube().channelVideos(CHANNEL)).toHaveLength(2);
    expect(emulator.requests).toHaveLength(2);
  });

  it("fails an unknown channel at once, naming YouTube and the channel id", async () => {
    const error = await youtube()
      .channelVideos("UCdoesNotExist")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toMatch(/^YouTube: channel UCdoesNotExist not found/);
    expect(isRetryable(error)).toBe(false);
    expect(emulator.requests).toHaveLength(1);
  });

  it("fails a 403 without retrying, naming the service and the status", async () => {
    emulator.failNext(1, { status: 403, body: "forbidden by proxy" });
    const error = await youtube()
      .channelVideos(CHANNEL)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^YouTube: HTTP 403 .*forbidden by proxy/);
    expect(emulator.requests).toHaveLength(1);
  });

  it("fails clearly on a body that is not XML, and on XML that is not a feed", async () => {
    emulator.failNext(1, { status: 200, body: "<feed><entry><title>broken</entry>" });
    await expect(youtube().channelVideos(CHANNEL)).rejects.toThrow(
      /^YouTube: feed of channel UCemulatedChannel000001 is not valid XML/,
    );
    emulator.failNext(1, { status: 200, body: "<html><body>consent</body></html>" });
    await expect(youtube().channelVideos(CHANNEL)).rejects.toThrow(
      /^YouTube: feed of channel UCemulatedChannel000001 is not a YouTube Atom feed/,
    );
  });

  it("returns an empty list for a channel without videos", async () => {
    emulator.addChannel("UCemptyChannel", []);
    expect(await youtube().channelVideos("UCemptyChannel")).toEqual([]);
  });
});

describe("transcript", () => {
  it("reads classic caption XML (seconds) through innertube, rewritten to the emulator", async () => {
    const segments = await youtube().transcript("classicVid1");
    expect(segments).toEqual(SEGMENTS);
    expect(paths()).toEqual(["POST /youtubei/v1/player", "GET /api/timedtext"]);
    expect(emulator.requests[1]?.path).toContain("v=classicVid1");
    expect(JSON.parse(emulator.requests[0]?.body ?? "{}")).toMatchObject({
      videoId: "classicVid1",
      context: { client: { clientName: "ANDROID" } },
    });
  });

  it("reads srv3 captions (milliseconds) and still gives seconds", async () => {
    const segments = await youtube().transcript("srv3Video01", "en");
    expect(segments).toEqual(SEGMENTS);
    expect(emulator.requests[1]?.path).toContain("fmt=srv3");
  });

  it("falls back to the watch page when innertube refuses", async () => {
    emulator.failNext(1, { status: 400, path: "/youtubei/" });
    expect(await youtube().transcript("srv3Video01")).toEqual(SEGMENTS);
    expect(paths()).toEqual(["POST /youtubei/v1/player", "GET /watch", "GET /api/timedtext"]);
  });

  it("waits on 429 and retries a 5xx of the caption track", async () => {
    emulator.failNext(1, { status: 429, retryAfter: 0, path: "/api/timedtext" });
    emulator.failNext(1, { status: 500, path: "/api/timedtext" });
    expect(await youtube().transcript("classicVid1")).toEqual(SEGMENTS);
    expect(paths().filter((p) => p === "GET /api/timedtext")).toHaveLength(3);
  });

  it("gives NoTranscriptError for a video whose captions are disabled", async () => {
    const error = await youtube()
      .transcript("noCaptions1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoTranscriptError);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect((error as Error).name).toBe("NoTranscriptError");
    expect(errorCode(error)).toBe("no_transcript");
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(isRetryable(error)).toBe(false);
    expect((error as Error).message).toMatch(/noCaptions1.*disabled/);
    expect(paths()).toContain("GET /watch");
  });

  it("gives NoTranscriptError when no track is in the language asked for", async () => {
    const error = await youtube()
      .transcript("frenchOnly1", "de")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoTranscriptError);
    expect((error as Error).message).toMatch(/frenchOnly1.*Available languages: fr/);
  });

  it("fails a 403 of the caption track at once, naming YouTube and the status", async () => {
    emulator.failNext(1, { status: 403, body: "no access", path: "/api/timedtext" });
    const error = await youtube()
      .transcript("classicVid1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as Error).message).toMatch(/^YouTube: HTTP 403 from .*\/api\/timedtext: no access/);
  });

  it("fails clearly on a caption body it cannot read", async () => {
    emulator.failNext(1, { status: 200, body: "<transcript><garbage/></transcript>", path: "/api/timedtext" });
    await expect(youtube().transcript("classicVid1")).rejects.toThrow(
      /^YouTube: the caption track of video classicVid1 held no segments/,
    );
  });

  it("honours the signal", async () => {
    const controller = new AbortController();
    emulator.failNext(1, { delayMs: 2000, path: "/youtubei/" });
    const client = createYouTube({
      env: { YOUTUBE_BASE_URL: emulator.url },
      signal: controller.signal,
      log: pino({ level: "silent" }),
    });
    setTimeout(() => controller.abort(new Error("run timed out")), 50);
    await expect(client.transcript("classicVid1")).rejects.toThrow("run timed out");
    expect(paths()).not.toContain("GET /api/timedtext");
  });

  it("without YOUTUBE_BASE_URL, keeps YouTube's own hosts", async () => {
    const seen: string[] = [];
    const recordingFetch: typeof fetch = (input) => {
      seen.push(String(input));
      return Promise.resolve(new Response("gone", { status: 404 }));
    };
    const client = createYouTube({
      env: {},
      signal: new AbortController().signal,
      log: pino({ level: "silent" }),
      fetch: recordingFetch,
    });
    await expect(client.channelVideos("UCx")).rejects.toThrow(/^YouTube: channel UCx not found/);
    await expect(client.transcript("classicVid1")).rejects.toThrow(
      /^YouTube: HTTP 404 from https:\/\/www\.youtube\.com\/watch/,
    );
    expect(seen).toEqual([
      "https://www.youtube.com/feeds/videos.xml?channel_id=UCx",
      "https://www.youtube.com/youtubei/v1/player?prettyPrint=false",
      "https://www.youtube.com/watch?v=classicVid1",
    ]);
  });
});

describe("as YouTube answers servers", () => {
  it("lists only the latest 15 videos of a channel, as the real feed does", async () => {
    const videos = Array.from({ length: 20 }, (_, i) => ({
      id: `many${String(i).padStart(7, "0")}`,
      title: `Video ${i}`,
      publishedAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    }));
    emulator.addChannel("UCmanyVideos", videos);
    const listed = await youtube().channelVideos("UCmanyVideos");
    expect(listed.map((video) => video.id)).toEqual(
      videos
        .slice(5)
        .reverse()
        .map((video) => video.id),
    );
  });

  it("fails a transcript met by the bot check with a retryable error, not as a video without captions", async () => {
    emulator.setBotCheck("page");
    try {
      const error = await youtube()
        .transcript("classicVid1")
        .then(
          () => expect.fail("should have failed"),
          (caught: unknown) => caught as Error,
        );
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).not.toBeInstanceOf(NoTranscriptError);
      expect(isRetryable(error)).toBe(true);
      expect(error.message).toContain("answered the transcript request for video classicVid1 with its bot check");
    } finally {
      emulator.setBotCheck(null);
    }
  });

  it("fails a transcript rate limited with the captcha page (429) with a retryable error", async () => {
    emulator.setBotCheck("429");
    try {
      const quick = createYouTube({
        env: { YOUTUBE_BASE_URL: emulator.url },
        signal: new AbortController().signal,
        log: pino({ level: "silent" }),
        retries: 0,
      });
      const error = await quick.transcript("classicVid1").then(
        () => expect.fail("should have failed"),
        (caught: unknown) => caught as Error,
      );
      expect(error).not.toBeInstanceOf(NoTranscriptError);
      expect(error).toMatchObject({ status: 429, retryable: true });
    } finally {
      emulator.setBotCheck(null);
    }
  });
});

describe("hostile caption tracks", () => {
  it("reads a 1 MB srv3 track full of unclosed paragraphs in bounded time", async () => {
    const good = `<p t="1000" d="2000" w="1"><s ac="0">Hello</s></p>`;
    const body = `<?xml version="1.0" encoding="utf-8" ?><timedtext format="3"><body>${good}${'<p t="5" d="5">x'.repeat(65_536)}</body></timedtext>`;
    emulator.failNext(1, { path: "/api/timedtext", status: 200, body });
    const started = performance.now();
    const segments = await youtube().transcript("srv3Video01");
    expect(performance.now() - started).toBeLessThan(2000);
    expect(segments).toEqual([{ text: "Hello", start: 1, duration: 2 }]);
  }, 60_000);
});
