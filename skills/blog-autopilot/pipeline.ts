/**
 * @module blog-autopilot/pipeline — one video's way to an article: its transcript, the article
 * Claude writes from it, and its hero image, each a memoized step (`transcript:<id>`,
 * `article:<id>`, `image:<id>`), so a retried or resumed run redoes none of them.
 */
import { errorCode, imageType } from "sundial";
import type { SkillContext, Video } from "sundial";
import { articlePrompt, articleSchema, imagePrompt, tidyArticle, type Article } from "./article.ts";
import type { ImageExtension } from "./output.ts";
import type { BlogParams } from "./params.ts";
import type { BlogState } from "./state.ts";

/** `times`: [character offset in `text`, seconds into the video] about every 30 s, for links to moments. */
export type TranscriptResult =
  { ok: true; text: string; segments: number; times?: [number, number][] } | { ok: false; reason: string };

/** Seconds between two time marks kept with a transcript. */
const MARK_EVERY_S = 30;
export type HeroImage = { bytes: Uint8Array; extension: ImageExtension } | { missing: string };

export type VideoResult =
  | { kind: "skipped"; video: Video; reason: string }
  | { kind: "article"; video: Video; article: Article; image: HeroImage | null };

type Ctx = SkillContext<BlogParams>;

/** The transcript as one text; "no captions" is an answer (stored, so it is not asked again), not a failure. */
async function fetchTranscript(ctx: Ctx, video: Video): Promise<TranscriptResult> {
  try {
    const segments = await ctx.sources.youtube.transcript(video.id, ctx.params.lang);
    let text = "";
    const times: [number, number][] = [];
    for (const segment of segments) {
      const words = segment.text.replace(/\s+/g, " ").trim();
      if (!words) continue;
      const last = times.at(-1);
      if (Number.isFinite(segment.start) && (!last || segment.start - last[1] >= MARK_EVERY_S))
        times.push([text ? text.length + 1 : 0, Math.floor(segment.start)]);
      text = text ? `${text} ${words}` : words;
    }
    return { ok: true, text, segments: segments.length, ...(times.length > 1 ? { times } : {}) };
  } catch (error) {
    // "sundial" does not export the class (a skill imports nothing else of Sundial): the name is the contract.
    if (errorCode(error) === "no_transcript") return { ok: false, reason: `no captions: ${(error as Error).message}` };
    throw error;
  }
}

/** The transcript with `[t=SECONDS]` markers at its time marks, for an article that may link moments. */
export function timedTranscript(text: string, times: readonly [number, number][] | undefined): string {
  if (!times?.length) return text;
  let out = "";
  let from = 0;
  for (const [offset, seconds] of times) {
    if (offset < from || offset > text.length) continue;
    out += `${text.slice(from, offset)}[t=${seconds}] `;
    from = offset;
  }
  return out + text.slice(from);
}

async function writeArticle(
  ctx: Ctx,
  video: Video,
  transcript: string,
  memory: BlogState,
  blog: BlogWriting,
): Promise<Article> {
  const draft = memory.draft(video.id);
  if (draft) {
    ctx.log.info({ video: video.id }, "reusing the article an earlier run wrote for this video (not delivered yet)");
    return draft;
  }
  const { voice, audience, maxTranscriptChars, maxTokens } = ctx.params;
  const answer = await ctx.claude.structured({
    system: blog.system,
    prompt: articlePrompt({ video, transcript, voice, audience, maxTranscriptChars }),
    schema: articleSchema,
    name: "blog_article",
    description: "A blog article written from a video's transcript",
    maxTokens,
  });
  const article = tidyArticle(answer, video);
  await memory.saveDraft(video.id, article);
  return article;
}

/** A hero image, or why there is none: an image is a nicety, its failure never costs the article. */
async function heroImage(ctx: Ctx, article: Article): Promise<HeroImage> {
  try {
    // The bytes decide the type, whatever the service (or a stand-in for it) says it sent.
    const { bytes } = await ctx.images.generate(imagePrompt(article));
    const type = imageType(bytes);
    if (type) return { bytes, extension: type.extension };
    return { missing: "the image service answered with bytes that are not PNG, JPEG, GIF or WebP" };
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    ctx.log.warn(
      { err: (error as Error).message, title: article.title },
      "hero image failed; the article goes without one",
    );
    return { missing: `the hero image failed (${(error as Error).message})` };
  }
}

/** The video's transcript as a memoized step; called twice at once, both share one fetch. */
export function transcriptOf(ctx: Ctx, video: Video): Promise<TranscriptResult> {
  return ctx.step(`transcript:${video.id}`, () => fetchTranscript(ctx, video));
}

/** Transcript → article → image for one video; a video that cannot make an article is skipped for good. */
/** What every article of the run shares: the system prompt (with the learned blog) and whether moments are linked. */
export interface BlogWriting {
  system: string;
  linkMoments: boolean;
}

export async function workOnVideo(
  ctx: Ctx,
  video: Video,
  memory: BlogState,
  imagesWanted: boolean,
  blog: BlogWriting,
): Promise<VideoResult> {
  const skipFor = async (reason: string): Promise<VideoResult> => {
    ctx.log.info({ video: video.id, title: video.title, reason }, "video skipped");
    await memory.markSkipped(video.id, reason);
    return { kind: "skipped", video, reason };
  };
  const transcript = await transcriptOf(ctx, video);
  if (!transcript.ok) return skipFor(transcript.reason);
  const { minTranscriptChars } = ctx.params;
  if (transcript.text.length < minTranscriptChars) {
    return skipFor(`transcript too short: ${transcript.text.length} characters, the minimum is ${minTranscriptChars}`);
  }
  const text = blog.linkMoments ? timedTranscript(transcript.text, transcript.times) : transcript.text;
  const article = await ctx.step(`article:${video.id}`, () => writeArticle(ctx, video, text, memory, blog));
  const image = imagesWanted ? await ctx.step(`image:${video.id}`, () => heroImage(ctx, article)) : null;
  return { kind: "article", video, article, image };
}
