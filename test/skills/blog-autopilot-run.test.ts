/**
 * blog-autopilot's `run` with a fake context (no daemon, no HTTP): what it skips and why, what it
 * remembers between runs, how it isolates a broken video, and how it does without images.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { Output, Receipt, SkillContext, SkipResult, TranscriptSegment, Video } from "../../src/types.ts";
import { NonRetryableError, ServiceError } from "../../src/errors.ts";
import skill, { MAX_FAILURES } from "../../skills/blog-autopilot/index.ts";
import { blogParams, type BlogParams } from "../../skills/blog-autopilot/params.ts";
import { createBlogState } from "../../skills/blog-autopilot/state.ts";
import { chooseSlug } from "../../skills/blog-autopilot/output.ts";
import { tidyArticle } from "../../skills/blog-autopilot/article.ts";
import { ONE_PIXEL_PNG } from "../emulators/leonardo.ts";
import { CHANNEL_A, scriptedArticle, segments } from "./blog-fixtures.ts";

const clip = (id: string, minutesAgo: number): Video => ({
  id,
  channelId: CHANNEL_A,
  title: `Video ${id}`,
  url: `https://www.youtube.com/watch?v=${id}`,
  publishedAt: new Date(Date.UTC(2025, 0, 1) - minutesAgo * 60_000).toISOString(),
});

interface World {
  videos: Video[];
  transcripts: Record<string, TranscriptSegment[] | "none">;
  /** Video ids whose article request fails, with the error. */
  claudeFails?: Record<string, Error>;
  images?: boolean | "broken";
  state: Map<string, unknown>;
  claudeCalls: string[];
  imageCalls: number;
  /** Outputs handed to `ctx.deliver` and delivered, in order, over every run. */
  delivered: Output[];
  /** When set, `ctx.deliver` fails with it (GitHub down), and nothing is delivered. */
  deliveryFails?: Error;
}

function world(videos: Video[], transcripts: World["transcripts"], extra: Partial<World> = {}): World {
  return {
    videos,
    transcripts,
    state: new Map(),
    claudeCalls: [],
    imageCalls: 0,
    images: true,
    delivered: [],
    ...extra,
  };
}

/** One run's context over `w`: fresh steps (as a new run has), the world's state kept across runs. */
function contextFor(w: World, params: Partial<BlogParams> = {}): SkillContext<BlogParams> {
  const steps = new Map<string, Promise<unknown>>();
  return {
    params: blogParams.parse({ channels: [CHANNEL_A], ...params }),
    log: pino({ level: "silent" }),
    signal: new AbortController().signal,
    step<T>(id: string, fn: () => Promise<T> | T) {
      if (!steps.has(id)) steps.set(id, Promise.resolve().then(fn));
      return steps.get(id) as Promise<T>;
    },
    state: {
      get: <T>(key: string) => structuredClone(w.state.get(key)) as T | undefined,
      set: async (key, value) => void w.state.set(key, structuredClone(value)),
    },
    run: { id: 1, job: "blog", scheduledFor: "2025-01-02T06:00:00.000Z", attempt: 1, lastSuccessAt: null },
    parallel: (items, fn) => Promise.all(items.map((item, index) => fn(item, index))),
    claude: {
      text: async () => "unused",
      structured: async <T>(request: { prompt: string }) => {
        const id = /watch\?v=([\w-]{11})/.exec(request.prompt)?.[1] ?? "?";
        w.claudeCalls.push(id);
        const failure = w.claudeFails?.[id];
        if (failure) throw failure;
        return scriptedArticle(id) as T;
      },
    },
    sources: {
      youtube: {
        channelVideos: async () => w.videos,
        transcript: async (id) => {
          const found = w.transcripts[id];
          if (found === "none")
            throw new NonRetryableError(`YouTube: no transcript for video ${id}: captions are disabled`, {
              code: "no_transcript",
            });
          return found ?? [];
        },
      },
      fetch: async () => [],
    },
    images: {
      available: w.images !== false,
      generate: async () => {
        w.imageCalls++;
        if (w.images === "broken")
          throw new ServiceError({ service: "Leonardo", message: "generation g1 failed (status FAILED)" });
        return { bytes: ONE_PIXEL_PNG, mediaType: "image/png", extension: "png" };
      },
    },
    deliver: async (output) => {
      if (w.deliveryFails) throw w.deliveryFails;
      const receipts: Receipt[] = [{ to: "github-pr", url: `https://github.com/acme/blog/pull/${output.key}` }];
      w.delivered.push(output);
      await output.onDelivered?.(receipts);
      return receipts;
    },
    dryRun: false,
  };
}

const run = async (w: World, params?: Partial<BlogParams>) => skill.run(contextFor(w, params));
/** Runs once; the outputs it delivered, in the videos' order (branches finish in any order). */
const runOutputs = async (w: World, params?: Partial<BlogParams>): Promise<Output[]> => {
  const before = w.delivered.length;
  expect(await run(w, params)).toBeUndefined();
  const order = w.videos.map((video) => video.id);
  return w.delivered.slice(before).sort((a, b) => order.indexOf(a.key as string) - order.indexOf(b.key as string));
};

describe("blog-autopilot run", () => {
  it("skips with 'no new videos' when every video is seen or skipped, without asking Claude", async () => {
    const w = world([clip("vidR0000001", 1)], { vidR0000001: segments("vidR0000001", "full") });
    w.state.set("seen", { vidR0000001: { at: "2025-01-01T00:00:00.000Z" } });
    expect(await run(w)).toEqual({ skipped: true, reason: "no new videos" });
    expect(w.claudeCalls).toEqual([]);
  });

  it("skips a run whose videos all lack a usable transcript, with each reason, and does not try them again", async () => {
    const w = world([clip("vidR0000001", 1), clip("vidR0000002", 2)], {
      vidR0000001: "none",
      vidR0000002: segments("vidR0000002", "short"),
    });
    const result = (await run(w)) as SkipResult;
    expect(result.skipped).toBe(true);
    expect(result.reason).toMatch(
      /^no article to write: vidR0000001 \("Video vidR0000001"\) no captions: .*captions are disabled; vidR0000002 \("Video vidR0000002"\) transcript too short: \d+ characters, the minimum is 1500$/,
    );
    expect(Object.keys(w.state.get("skipped") as object)).toEqual(["vidR0000001", "vidR0000002"]);
    expect(await run(w)).toEqual({ skipped: true, reason: "no new videos" });
    expect(w.claudeCalls).toEqual([]);
  });

  it("takes at most maxVideos, newest first, and writes each article once even when its delivery failed", async () => {
    const videos = ["vidR0000001", "vidR0000002", "vidR0000003"].map((id, i) => clip(id, i));
    const w = world(videos, Object.fromEntries(videos.map((v) => [v.id, segments(v.id, "full")])));
    w.deliveryFails = new ServiceError({ service: "GitHub", message: "502 Bad Gateway", status: 502, retryable: true });
    const failed = await run(w, { maxVideos: 2 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(failed?.message).toMatch(/2 of 2 videos failed: .*GitHub: 502 Bad Gateway/);
    expect(failed).not.toBeInstanceOf(NonRetryableError);
    expect(w.claudeCalls.sort()).toEqual(["vidR0000001", "vidR0000002"]);
    // Not delivered: the next run writes nothing new for them, and keeps the slugs it chose.
    delete w.deliveryFails;
    const second = await runOutputs(w, { maxVideos: 2 });
    expect(second.map((o) => [o.key, o.slug])).toEqual([
      ["vidR0000001", "how-vidr0000001-works"],
      ["vidR0000002", "how-vidr0000002-works"],
    ]);
    expect(w.claudeCalls).toHaveLength(2);
    expect(w.state.get("seen")).toMatchObject({
      vidR0000001: { slug: "how-vidr0000001-works", url: "https://github.com/acme/blog/pull/vidR0000001" },
    });
    expect(w.state.get("drafts")).toEqual({});
    const third = await runOutputs(w, { maxVideos: 2 });
    expect(third.map((o) => o.key)).toEqual(["vidR0000003"]);
    expect(await run(w, { maxVideos: 2 })).toEqual({ skipped: true, reason: "no new videos" });
  });

  it("delivers the good video at once, fails the run for a broken one, and skips it after repeated failures", async () => {
    const videos = [clip("vidR0000001", 1), clip("vidR0000002", 2)];
    const broken = new ServiceError({
      service: "Claude",
      message: "the answer was cut off at maxTokens (16000); raise maxTokens",
    });
    const w = world(
      videos,
      { vidR0000001: segments("vidR0000001", "full"), vidR0000002: segments("vidR0000002", "full") },
      { claudeFails: { vidR0000002: broken } },
    );
    for (let attempt = 1; attempt < MAX_FAILURES; attempt++) {
      const error = await run(w).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(NonRetryableError);
      // The first run delivers the good video; later runs meet the broken one alone.
      expect(error?.message).toBe(
        `blog-autopilot: 1 of ${attempt === 1 ? 2 : 1} videos failed: vidR0000002 ("Video vidR0000002"): ${broken.message}`,
      );
      expect(w.delivered.map((o) => o.key)).toEqual(["vidR0000001"]);
    }
    const result = (await run(w)) as SkipResult;
    expect(result.reason).toMatch(
      /^no article to write: vidR0000002 \("Video vidR0000002"\) failed 3 times, last: Claude: the answer was cut off/,
    );
    expect((w.state.get("skipped") as Record<string, { reason: string }>).vidR0000002?.reason).toMatch(
      /^failed 3 times, last: Claude: the answer was cut off/,
    );
    // The good article was written and delivered once across all those runs.
    expect(w.claudeCalls.filter((id) => id === "vidR0000001")).toHaveLength(1);
    expect(w.delivered).toHaveLength(1);
  });

  it("does not count an outage against a video: when nothing worked the run fails, retryably, and no video is skipped", async () => {
    const w = world(
      [clip("vidR0000001", 1)],
      { vidR0000001: segments("vidR0000001", "full") },
      {
        claudeFails: {
          vidR0000001: new ServiceError({
            service: "Claude",
            message: "529 overloaded_error",
            status: 529,
            retryable: true,
          }),
        },
      },
    );
    for (let i = 0; i < MAX_FAILURES + 1; i++) {
      const error = await run(w).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/1 of 1 videos failed: vidR0000001 .*529 overloaded_error/);
      expect(error).not.toBeInstanceOf(NonRetryableError);
    }
    expect(w.state.get("skipped")).toBeUndefined();
    expect(w.state.get("failures")).toBeUndefined();
  });

  it("goes without images when no image service is configured, and says so", async () => {
    const w = world([clip("vidR0000001", 1)], { vidR0000001: segments("vidR0000001", "full") }, { images: false });
    const [output] = await runOutputs(w);
    expect(output?.files?.map((f) => f.path)).toEqual(["how-vidr0000001-works.md"]);
    expect(output?.summary).toMatch(/No hero image: LEONARDO_API_KEY is not set\.$/);
    expect(w.imageCalls).toBe(0);
  });

  it("delivers the article without its image when the image fails, and makes none when heroImage is false", async () => {
    const w = world([clip("vidR0000001", 1)], { vidR0000001: segments("vidR0000001", "full") }, { images: "broken" });
    const [output] = await runOutputs(w);
    expect(output?.files?.map((f) => f.path)).toEqual(["how-vidr0000001-works.md"]);
    expect(output?.summary).toMatch(
      /No hero image: the hero image failed \(Leonardo: generation g1 failed \(status FAILED\)\)\.$/,
    );
    const plain = world([clip("vidR0000002", 1)], { vidR0000002: segments("vidR0000002", "full") });
    const [text] = await runOutputs(plain, { heroImage: false });
    expect(text?.files).toHaveLength(1);
    // No note; the reviewer's list of the article's links only.
    expect(text?.summary).toBe(
      `${scriptedArticle("vidR0000002").description}\n\nExternal links in this article (1; check each before merging):\n- \`https://www.youtube.com/watch?v=vidR0000002\``,
    );
    expect(plain.imageCalls).toBe(0);
  });

  it("gives an article a slug no earlier article of the job used", async () => {
    const w = world([clip("vidR0000001", 1)], { vidR0000001: segments("vidR0000001", "full") });
    w.state.set("seen", { vidOLD000001: { at: "2024-01-01T00:00:00.000Z", slug: "how-vidr0000001-works" } });
    const [output] = await runOutputs(w);
    expect(output?.slug).toBe("how-vidr0000001-works-vidr0000001");
    expect(output?.files?.map((f) => f.path)).toEqual([
      "how-vidr0000001-works-vidr0000001.md",
      "how-vidr0000001-works-vidr0000001.png",
    ]);
  });

  it("gives parallel articles with the same title different slugs, and each keeps its slug when the run is retried", async () => {
    const state = new Map<string, unknown>();
    const jobState = {
      get: <T>(key: string) => structuredClone(state.get(key)) as T | undefined,
      set: async (key: string, value: unknown) => void state.set(key, structuredClone(value)),
    };
    const memory = createBlogState(jobState);
    const article = tidyArticle(scriptedArticle("vidR0000001"), clip("vidR0000001", 1));
    const claim = (store: typeof memory, id: string) =>
      store.claimSlug(id, article, (taken) => chooseSlug(article, id, taken));
    for (const id of ["vidR0000001", "vidR0000002"]) await memory.saveDraft(id, article);
    const first = await Promise.all([claim(memory, "vidR0000002"), claim(memory, "vidR0000001")]);
    expect(new Set(first).size).toBe(2);
    // A retry (fresh memory over the same state) claims in the other order and gets the same slugs.
    const again = createBlogState(jobState);
    expect(await Promise.all([claim(again, "vidR0000001"), claim(again, "vidR0000002")])).toEqual([first[1], first[0]]);
  });
});
