/**
 * @module blog-autopilot — new videos of YouTube channels → their transcripts → an article Claude
 * writes from each (in the author's voice) → an optional hero image → one output per article: a
 * markdown file with front matter and its image, normally one pull request each and a Discord
 * message linking it. A video is marked seen only once its article is delivered. The blog's own
 * shape (front matter, layout, tags, style) is learned from the pull requests' repository first.
 */
import { defineSkill, isRetryable, NonRetryableError, skip } from "sundial";
import type { Receipt, SkillContext, Video } from "sundial";
import { systemPrompt } from "./article.ts";
import { learnedBlog } from "./blog-repo.ts";
import { articleOutput, chooseSlug } from "./output.ts";
import { blogParams, type BlogParams } from "./params.ts";
import { transcriptOf, workOnVideo, type VideoResult } from "./pipeline.ts";
import { resolveShape } from "./shape.ts";
import { createBlogState, type BlogState } from "./state.ts";
import { fetchFeeds, selectNewVideos } from "./videos.ts";

/** A video whose work failed this many times (counted as `settleFailures` says) is skipped for good. */
export const MAX_FAILURES = 3;

type Settled = { video: Video; result: VideoResult } | { video: Video; error: unknown };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Videos that failed: a failure counts against the video when others of the run worked, or when it
 * had already failed while others worked (the others are delivered by then, so it fails alone); a
 * failure every video of a run shares, seen first, is an outage and counts against none. A video
 * is skipped once it failed `MAX_FAILURES` times; any other failure fails the run, after every
 * other video's work is stored in its steps for the retry to reuse.
 */
async function settleFailures(
  ctx: SkillContext<BlogParams>,
  settled: Settled[],
  memory: BlogState,
): Promise<VideoResult[]> {
  const failed = settled.filter((item): item is Extract<Settled, { error: unknown }> => "error" in item);
  if (failed.length === 0) return settled.map((item) => (item as { result: VideoResult }).result);
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const othersWorked = failed.length < settled.length;
  const results: VideoResult[] = [];
  const blocking: typeof failed = [];
  for (const item of settled) {
    if (!("error" in item)) {
      results.push(item.result);
      continue;
    }
    const counts = othersWorked || memory.failureCount(item.video.id) > 0;
    const count = counts ? await memory.recordFailure(item.video.id, messageOf(item.error)) : 0;
    if (count < MAX_FAILURES) {
      blocking.push(item);
      continue;
    }
    const reason = `failed ${count} times, last: ${messageOf(item.error)}`;
    ctx.log.error({ video: item.video.id, title: item.video.title, reason }, "video skipped after repeated failures");
    await memory.markSkipped(item.video.id, reason);
    results.push({ kind: "skipped", video: item.video, reason });
  }
  if (blocking.length === 0) return results;
  const list = blocking.map(({ video, error }) => `${video.id} ("${video.title}"): ${messageOf(error)}`).join("; ");
  const message = `blog-autopilot: ${blocking.length} of ${settled.length} videos failed: ${list}`;
  throw blocking.some(({ error }) => isRetryable(error)) ? new Error(message) : new NonRetryableError(message);
}

export default defineSkill({
  name: "blog-autopilot",
  description: "Turns new videos of YouTube channels into draft blog articles with hero images, one pull request each.",
  params: blogParams,
  timeout: "30m",
  retries: 2,
  env: () => ["ANTHROPIC_API_KEY"],
  async run(ctx) {
    const { params } = ctx;
    const memory = createBlogState(ctx.state);
    const done = new Set([...Object.keys(memory.seen()), ...Object.keys(memory.skipped())]);
    const feeds = await fetchFeeds(ctx, params.channels, params.concurrency);
    const videos = selectNewVideos(feeds, done, params.maxVideos);
    if (videos.length === 0) return skip("no new videos");
    ctx.log.info({ videos: videos.map((video) => video.id) }, `${videos.length} new video(s) to write about`);

    // Learned before any article is written (the prompts and the files follow the blog), while the
    // first round's transcripts come in; the other transcripts are fetched ahead after that (as many
    // at a time), so a later video's article does not wait for its transcript, nor the lesson for
    // them. A failure here surfaces again in the video's own work (the same step).
    const learning = learnedBlog(ctx, params.learnFromRepo);
    const fetchAhead = (list: readonly Video[]) =>
      ctx.parallel(list, (video) => transcriptOf(ctx, video).catch(() => undefined), {
        concurrency: params.concurrency,
      });
    const prefetched = Promise.all([
      fetchAhead(videos.slice(0, params.concurrency)),
      learning.then(
        () => true,
        () => false,
      ),
    ]).then(([, learnt]) => (learnt ? fetchAhead(videos.slice(params.concurrency)) : undefined));
    // A failed lesson fails the run once the fetches it overlapped have ended.
    const learned = await learning.catch(async (error: unknown) => {
      await prefetched;
      throw error;
    });
    const profile = learned?.profile ?? null;
    const shape = resolveShape(profile, learned?.dir ?? "", params);
    const linkMoments = params.timestamps ?? profile?.linksTimestamps ?? false;
    const writing = {
      system: systemPrompt(
        profile && learned ? { profile, fence: learned.fence, maxRelated: params.relatedPosts } : null,
        linkMoments,
      ),
      linkMoments,
    };
    if (learned)
      ctx.log.info(
        {
          repo: learned.repo,
          learned: profile !== null,
          format: shape.format,
          layout: shape.layout,
          dateInFilename: shape.dateInFilename,
        },
        "writing in the blog's shape",
      );

    // A blog whose posts carry no image gets none (nor pays for one).
    const blogHasImages = profile === null || profile.keys.image !== null;
    const imagesWanted = params.heroImage && blogHasImages && ctx.images.available;
    const noImageService = params.heroImage && blogHasImages && !ctx.images.available;
    if (noImageService) ctx.log.warn("LEONARDO_API_KEY is not set: the articles go without a hero image");
    // Each article is delivered as soon as it is written (its pull request, then its Discord
    // message), outside the concurrency limit, so the run lasts as long as its slowest video.
    const publish = async (result: VideoResult): Promise<VideoResult> => {
      if (result.kind !== "article") return result;
      const { video, article, image } = result;
      const slug = await memory.claimSlug(video.id, article, (taken) => chooseSlug(article, video.id, taken));
      const missing =
        image && "missing" in image ? image.missing : noImageService ? "LEONARDO_API_KEY is not set" : undefined;
      await ctx.deliver(
        articleOutput({
          video,
          article,
          slug,
          scheduledFor: ctx.run.scheduledFor,
          image: image && "bytes" in image ? image : null,
          frontMatter: params.frontMatter,
          shape,
          ...(learned
            ? { blog: { profile, repo: learned.repo, dir: learned.dir, maxRelated: params.relatedPosts } }
            : {}),
          ...(missing ? { note: `No hero image: ${missing}.` } : {}),
          onDelivered: (receipts: Receipt[]) => {
            const url =
              receipts.find((receipt) => receipt.to === "github-pr")?.url ??
              receipts.find((receipt) => receipt.url)?.url;
            return memory.markSeen(video.id, { slug, ...(url ? { url } : {}) });
          },
        }),
      );
      return result;
    };
    const settle = (video: Video, work: Promise<VideoResult>): Promise<Settled> =>
      work.then(
        (result) => ({ video, result }),
        (error: unknown) => ({ video, error }),
      );
    const started = await ctx.parallel(
      videos,
      async (video) => {
        const written = await settle(video, workOnVideo(ctx, video, memory, imagesWanted, writing));
        if ("error" in written) return { delivered: Promise.resolve(written) };
        // Returned inside an object so the concurrency slot is freed while the delivery runs, and
        // begun a turn later, so the next video's Claude request goes out before this pull request's.
        const later = new Promise<void>((resolve) => setImmediate(resolve));
        return {
          delivered: settle(
            video,
            later.then(() => publish(written.result)),
          ),
        };
      },
      { concurrency: params.concurrency },
    );
    const settled = await Promise.all(started.map(({ delivered }) => delivered));
    await prefetched;
    const results = await settleFailures(ctx, settled, memory);
    if (results.some((result) => result.kind === "article")) return;
    return skip(
      `no article to write: ${results.map((result) => `${result.video.id} ("${result.video.title}") ${(result as { reason: string }).reason}`).join("; ")}`,
    );
  },
});
