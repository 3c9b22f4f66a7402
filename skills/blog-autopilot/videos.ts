/** @module blog-autopilot/videos — the channels' feeds (one memoized step each) and the new videos a run takes. */
import type { SkillContext, Video } from "sundial";

/** Every channel's feed, fetched in parallel; a resumed run reuses the lists its first attempt saw. */
export function fetchFeeds(
  ctx: Pick<SkillContext, "step" | "parallel" | "sources">,
  channels: readonly string[],
  concurrency: number,
): Promise<Video[][]> {
  const unique = [...new Set(channels)];
  return ctx.parallel(
    unique,
    (channel) => ctx.step(`feed:${channel}`, () => ctx.sources.youtube.channelVideos(channel)),
    { concurrency },
  );
}

/** Videos of any channel not in `done`, each once, newest first, at most `max`. */
export function selectNewVideos(feeds: readonly (readonly Video[])[], done: ReadonlySet<string>, max: number): Video[] {
  const byId = new Map<string, Video>();
  for (const video of feeds.flat()) if (!done.has(video.id) && !byId.has(video.id)) byId.set(video.id, video);
  return [...byId.values()]
    .sort((a, b) => b.publishedAt.localeCompare(a.publishedAt) || a.id.localeCompare(b.id))
    .slice(0, max);
}
