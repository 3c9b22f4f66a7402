/**
 * @module data-digest/select — which gathered items go into this digest (not in an earlier digest
 * of the job, newest first, capped), and the small record of digested ids kept in the job's state.
 */
import type { FeedItem } from "sundial";

/** Item id → ISO time it went into a delivered digest; kept in the job's state. */
export type DigestedIndex = Record<string, string>;

/** How long a digested id is remembered; items published before that are never "new" again. */
export const RETENTION_MS = 90 * 86_400_000;

export interface Selection {
  /** The items of this digest, newest first. */
  items: FeedItem[];
  /** New items beyond `maxItems`, left for a later digest. */
  held: number;
}

/** Reads the state value defensively: anything that is not an id → time record counts as empty. */
export function readDigested(value: unknown): DigestedIndex {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

function publishedMs(item: FeedItem): number | undefined {
  const ms = item.publishedAt ? Date.parse(item.publishedAt) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

export function selectNewItems(gathered: readonly FeedItem[], digested: DigestedIndex, options: { now: number; maxItems: number; retentionMs?: number }): Selection {
  const horizon = options.now - (options.retentionMs ?? RETENTION_MS);
  const seen = new Set<string>();
  const fresh: FeedItem[] = [];
  for (const item of gathered) {
    // The same item from two sources (a mirror, a repost) appears once.
    if (seen.has(item.id) || Object.hasOwn(digested, item.id)) continue;
    seen.add(item.id);
    // Its record may have been pruned already: an item this old would come back as new.
    const published = publishedMs(item);
    if (published !== undefined && published < horizon) continue;
    fresh.push(item);
  }
  // Newest first; undated items after dated ones, in the order their sources gave them.
  const sorted = fresh
    .map((item, index) => ({ item, index, at: publishedMs(item) }))
    .sort((a, b) => (a.at === undefined ? (b.at === undefined ? a.index - b.index : 1) : b.at === undefined ? -1 : b.at - a.at || a.index - b.index))
    .map(({ item }) => item);
  return { items: sorted.slice(0, options.maxItems), held: Math.max(0, sorted.length - options.maxItems) };
}

/** The index after a delivered digest: these items added, entries past the retention dropped. */
export function markDigested(digested: DigestedIndex, items: readonly FeedItem[], now: number, retentionMs = RETENTION_MS): DigestedIndex {
  const horizon = now - retentionMs;
  const kept = Object.entries(digested).filter(([, at]) => {
    const ms = Date.parse(at);
    return Number.isFinite(ms) && ms >= horizon;
  });
  const stamp = new Date(now).toISOString();
  return { ...Object.fromEntries(kept), ...Object.fromEntries(items.map((item) => [item.id, stamp])) };
}
