/**
 * @module blog-autopilot/pipeline — one video's way to an article: its transcript, the article
 * Claude writes from it, and its hero image, each a memoized step (`transcript:<id>`,
 * `article:<id>`, `image:<id>`), so a retried or resumed run redoes none of them.
 */
import { errorCode, imageType } from "sundial";
import type { SkillContext, Video } from "sundial";
import { articlePrompt, articleSchema, imagePrompt, readPrompt, tidyArticle, type Article } from "./article.ts";
import type { ImageExtension } from "./output.ts";
import type { BlogParams } from "./params.ts";
import type { BlogState } from "./state.ts";

export type TranscriptResult = { ok: true; text: string; segments: number } | { ok: false; reason: string };
export type HeroImage = { bytes: Uint8Array; extension: ImageExtension } | { missing: string };

export type VideoResult =
  | { kind: "skipped"; video: Video; reason: string }
  | { kind: "article"; video: Video; article: Article; image: HeroImage | null };

type Ctx = SkillContext<BlogParams>;

/** The transcript as one text; "no captions" is an answer (stored, so it is not asked again), not a failure. */
async function fetchTranscript(ctx: Ctx, video: Video): Promise<TranscriptResult> {
  try {
    const segments = await ctx.sources.youtube.transcript(video.id, ctx.params.lang);
    const text = segments.map((segment) => segment.text).join(" ").replace(/\s+/g, " ").trim();
    return { ok: true, text, segments: segments.length };
  } catch (error) {
    // "sundial" does not export the class (a skill imports nothing else of Sundial): the name is the contract.
    if (errorCode(error) === "no_transcript") return { ok: false, reason: `no captions: ${(error as Error).message}` };
    throw error;
  }
}

async function writeArticle(ctx: Ctx, video: Video, transcript: string, memory: BlogState): Promise<Article> {
  const draft = memory.draft(video.id);
  if (draft) {
    ctx.log.info({ video: video.id }, "reusing the article an earlier run wrote for this video (not delivered yet)");
    return draft;
  }
  const { voice, audience, maxTranscriptChars, maxTokens } = ctx.params;
  const answer = await ctx.claude.structured({
    system: readPrompt("system.md"),
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
    ctx.log.warn({ err: (error as Error).message, title: article.title }, "hero image failed; the article goes without one");
    return { missing: `the hero image failed (${(error as Error).message})` };
  }
}

/** The video's transcript as a memoized step; called twice at once, both share one fetch. */
export function transcriptOf(ctx: Ctx, video: Video): Promise<TranscriptResult> {
  return ctx.step(`transcript:${video.id}`, () => fetchTranscript(ctx, video));
}

/** Transcript → article → image for one video; a video that cannot make an article is skipped for good. */
export async function workOnVideo(ctx: Ctx, video: Video, memory: BlogState, imagesWanted: boolean): Promise<VideoResult> {
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
  const article = await ctx.step(`article:${video.id}`, () => writeArticle(ctx, video, transcript.text, memory));
  const image = imagesWanted ? await ctx.step(`image:${video.id}`, () => heroImage(ctx, article)) : null;
  return { kind: "article", video, article, image };
}
