/**
 * @module data-digest/select — which gathered items go into this digest (each story once, not in
 * an earlier digest of the job, best fit to the focus first, capped), and the small record of
 * digested ids kept in the job's state.
 */
import type { FeedItem } from "sundial";
import { asDigestItem, mergeStories, type DigestItem } from "./merge.ts";
import { rankLocally } from "./rank.ts";

/** Item id → ISO time it went into a delivered digest; kept in the job's state. */
export type DigestedIndex = Record<string, string>;

/** How long a digested id is remembered; items published before that are never "new" again. */
export const RETENTION_MS = 90 * 86_400_000;

export interface Selection {
  /** The items of this digest, best fit to the focus first (newest first without one). */
  items: DigestItem[];
  /** New items beyond `maxItems`, left for a later digest. */
  held: number;
}

/** Reads the state value defensively: anything that is not an id → time record counts as empty. */
export function readDigested(value: unknown): DigestedIndex {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

function publishedMs(item: FeedItem): number | undefined {
  const ms = item.publishedAt ? Date.parse(item.publishedAt) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The new stories, each once (see merge.ts), newest first (undated after dated, in their sources'
 * order): not digested before (a story any of whose items was digested is not new), not older
 * than the retention.
 */
export function freshStories(
  gathered: readonly FeedItem[],
  digested: DigestedIndex,
  options: { now: number; retentionMs?: number },
): DigestItem[] {
  const horizon = options.now - (options.retentionMs ?? RETENTION_MS);
  const fresh = mergeStories(gathered).filter((story) => {
    if (story.ids.some((id) => Object.hasOwn(digested, id))) return false;
    // Its record may have been pruned already: an item this old would come back as new.
    const published = publishedMs(story);
    return published === undefined || published >= horizon;
  });
  return fresh
    .map((item, index) => ({ item, index, at: publishedMs(item) }))
    .sort((a, b) =>
      a.at === undefined
        ? b.at === undefined
          ? a.index - b.index
          : 1
        : b.at === undefined
          ? -1
          : b.at - a.at || a.index - b.index,
    )
    .map(({ item }) => item);
}

/** This digest's items: the fresh stories in order of fit to `focus` (when given), at most `maxItems`. */
export function selectNewItems(
  gathered: readonly FeedItem[],
  digested: DigestedIndex,
  options: { now: number; maxItems: number; retentionMs?: number; focus?: string },
): Selection {
  const ordered = rankLocally(freshStories(gathered, digested, options), options.focus);
  return cut(ordered, options.maxItems);
}

export function cut(ordered: readonly DigestItem[], maxItems: number): Selection {
  return { items: ordered.slice(0, maxItems), held: Math.max(0, ordered.length - maxItems) };
}

/** The index after a delivered digest: these items added, entries past the retention dropped. */
export function markDigested(
  digested: DigestedIndex,
  items: readonly (FeedItem | DigestItem)[],
  now: number,
  retentionMs = RETENTION_MS,
): DigestedIndex {
  const horizon = now - retentionMs;
  const kept = Object.entries(digested).filter(([, at]) => {
    const ms = Date.parse(at);
    return Number.isFinite(ms) && ms >= horizon;
  });
  const stamp = new Date(now).toISOString();
  // Every item of a story: none of its sources brings it back as new.
  return {
    ...Object.fromEntries(kept),
    ...Object.fromEntries(items.flatMap((item) => asDigestItem(item).ids.map((id) => [id, stamp]))),
  };
}
