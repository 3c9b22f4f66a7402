/**
 * @module data-digest/merge — one story told by several sources becomes one item naming them all:
 * items are the same story when their URLs are the same once tracking parameters, `www.`, the
 * scheme, the fragment and a trailing slash are set aside, or when two different sources give the
 * same title (case, accents and punctuation aside; short titles such as "Weekly update" excepted).
 */
import type { FeedItem } from "sundial";

/** A digest item: the first source's item, with every source and every item id of its story. */
export type DigestItem = FeedItem & { sources: string[]; ids: string[] };

/** Query parameters that only say where a click came from. */
const TRACKING =
  /^(utm_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid|mc_cid|mc_eid|_hsenc|_hsmi|mkt_tok|ref|ref_src|ref_url|referrer|src|spm|si|trk|cmpid|oly_enc_id|oly_anon_id|vero_id|__s)$/i;
/** A title shorter than this (normalized) is too generic to prove two items are one story. */
const MIN_TITLE_CHARS = 20;

/** The URL as a story key: http(s) only, no tracking parameters, the others sorted; null for anything else. */
export function canonicalUrl(url: string | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  const params = [...parsed.searchParams]
    .filter(([name]) => !TRACKING.test(name))
    .sort(([a, av], [b, bv]) => a.localeCompare(b) || av.localeCompare(bv));
  const query = params.length ? `?${new URLSearchParams(params).toString()}` : "";
  const host = parsed.hostname.toLowerCase().replace(/^www\./, "");
  const port = parsed.port ? `:${parsed.port}` : "";
  const path = parsed.pathname.replace(/\/+$/, "") || "/";
  return `${host}${port}${path}${query}`;
}

/** The title as a story key: lowercase, accents and punctuation gone; null when too short to trust. */
export function normalTitle(title: string): string | null {
  const text = title
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
  return text.length >= MIN_TITLE_CHARS ? text : null;
}

/** The sources and ids of an item that may come from a digest stored before merging existed. */
export function asDigestItem(item: FeedItem | DigestItem): DigestItem {
  return {
    ...item,
    sources: "sources" in item && Array.isArray(item.sources) ? item.sources : [item.source],
    ids: "ids" in item && Array.isArray(item.ids) ? item.ids : [item.id],
  };
}

/**
 * The items with each story once, in the order its first item came; the story keeps its first
 * item's title, link and summary, the newest date of its items, and names every source once.
 */
export function mergeStories(items: readonly FeedItem[]): DigestItem[] {
  const stories: DigestItem[] = [];
  const byKey = new Map<string, DigestItem>();
  for (const item of items) {
    const url = canonicalUrl(item.url);
    const title = normalTitle(item.title);
    const keys = [`id:${item.id}`, ...(url ? [`url:${url}`] : [])];
    let story = keys.map((key) => byKey.get(key)).find(Boolean);
    // The same title counts only across sources: one feed may reuse a title for different posts.
    if (!story && title) {
      const same = byKey.get(`title:${title}`);
      if (same && !same.sources.includes(item.source)) story = same;
    }
    if (!story) {
      story = asDigestItem(item);
      stories.push(story);
    } else {
      if (!story.sources.includes(item.source)) story.sources.push(item.source);
      if (!story.ids.includes(item.id)) story.ids.push(item.id);
      if (item.publishedAt && (!story.publishedAt || Date.parse(item.publishedAt) > Date.parse(story.publishedAt)))
        story.publishedAt = item.publishedAt;
      if (!story.summary && item.summary) story.summary = item.summary;
    }
    for (const key of [...keys, ...(title ? [`title:${title}`] : [])]) if (!byKey.has(key)) byKey.set(key, story);
  }
  return stories;
}
