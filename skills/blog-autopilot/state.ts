/**
 * @module blog-autopilot/state — what the job remembers between runs, in its `state`: videos
 * delivered ("seen"), videos skipped for good with the reason ("skipped"), and articles written
 * but not delivered yet ("drafts", so a later run does not pay Claude twice for one video), and how
 * often a video's work failed ("failures", so one broken video cannot block the others for ever).
 */
import { z } from "sundial";
import type { JobState } from "sundial";
import { articleSchema, type Article } from "./article.ts";

export const SEEN = "seen";
export const SKIPPED = "skipped";
export const DRAFTS = "drafts";
export const FAILURES = "failures";
/** A channel feed lists its 15 newest videos, so older ids never come back; this bounds the state. */
const MAX_ENTRIES = 2000;

const seenEntry = z.object({ at: z.string(), slug: z.string().optional(), url: z.string().optional() });
const skippedEntry = z.object({ at: z.string(), reason: z.string() });
const draftEntry = z.object({ at: z.string(), article: articleSchema, slug: z.string().optional() });
const failureEntry = z.object({ at: z.string(), count: z.int(), error: z.string() });
export type SeenEntry = z.infer<typeof seenEntry>;
export type SkippedEntry = z.infer<typeof skippedEntry>;

type Entry = { at: string };

/** A stored map, or an empty one when it is missing or was written by an incompatible version. */
function readMap<T extends Entry>(state: JobState, key: string, entry: z.ZodType<T>): Record<string, T> {
  const parsed = z.record(z.string(), entry).safeParse(state.get(key) ?? {});
  return parsed.success ? parsed.data : {};
}

function newest<T extends Entry>(map: Record<string, T>): Record<string, T> {
  const entries = Object.entries(map);
  if (entries.length <= MAX_ENTRIES) return map;
  return Object.fromEntries(entries.sort(([, a], [, b]) => b.at.localeCompare(a.at)).slice(0, MAX_ENTRIES));
}

export function createBlogState(state: JobState, now: () => string = () => new Date().toISOString()) {
  // Parallel branches update the same maps: one update at a time, each on the latest value.
  let queue: Promise<void> = Promise.resolve();
  function update<T extends Entry>(
    key: string,
    entry: z.ZodType<T>,
    change: (map: Record<string, T>) => void,
  ): Promise<void> {
    const next = queue.then(async () => {
      const map = readMap(state, key, entry);
      change(map);
      await state.set(key, newest(map));
    });
    queue = next.catch(() => undefined);
    return next;
  }

  return {
    seen: (): Record<string, SeenEntry> => readMap(state, SEEN, seenEntry),
    skipped: (): Record<string, SkippedEntry> => readMap(state, SKIPPED, skippedEntry),
    failureCount: (videoId: string): number => readMap(state, FAILURES, failureEntry)[videoId]?.count ?? 0,
    draft: (videoId: string): Article | undefined => readMap(state, DRAFTS, draftEntry)[videoId]?.article,
    saveDraft: (videoId: string, article: Article) =>
      update(DRAFTS, draftEntry, (map) => {
        map[videoId] = { at: now(), article };
      }),
    /**
     * The slug of this video's article: chosen once, among slugs no other article of the job holds
     * (delivered or still a draft), and kept with the draft, so parallel branches never pick the
     * same one and a retried run gives each article the slug it had before.
     */
    async claimSlug(
      videoId: string,
      article: Article,
      choose: (taken: ReadonlySet<string>) => string,
    ): Promise<string> {
      let slug = "";
      await update(DRAFTS, draftEntry, (drafts) => {
        const own = drafts[videoId];
        if (own?.slug) {
          slug = own.slug;
          return;
        }
        const others = [
          ...Object.values(readMap(state, SEEN, seenEntry)),
          ...Object.entries(drafts).flatMap(([id, entry]) => (id === videoId ? [] : [entry])),
        ];
        slug = choose(new Set(others.flatMap((entry) => (entry.slug ? [entry.slug] : []))));
        drafts[videoId] = { at: own?.at ?? now(), article: own?.article ?? article, slug };
      });
      return slug;
    },
    markSkipped: (videoId: string, reason: string) =>
      update(SKIPPED, skippedEntry, (map) => {
        map[videoId] = { at: now(), reason };
      }),
    /** Counts one more failure of this video's work; returns how many there have been. */
    async recordFailure(videoId: string, error: string): Promise<number> {
      let count = 0;
      await update(FAILURES, failureEntry, (map) => {
        count = (map[videoId]?.count ?? 0) + 1;
        map[videoId] = { at: now(), count, error: error.slice(0, 500) };
      });
      return count;
    },
    async markSeen(videoId: string, entry: Omit<SeenEntry, "at">): Promise<void> {
      await update(SEEN, seenEntry, (map) => {
        map[videoId] = { at: now(), ...entry };
      });
      for (const [key, entry] of [
        [DRAFTS, draftEntry],
        [FAILURES, failureEntry],
      ] as const) {
        if (!readMap<Entry>(state, key, entry)[videoId]) continue;
        await update<Entry>(key, entry, (map) => {
          delete map[videoId];
        });
      }
    },
  };
}

export type BlogState = ReturnType<typeof createBlogState>;
