/** @module http-cache — a feed fetcher's conditional-request cache kept in memory, for tests (runs keep theirs in job state). */
import type { CachedFeed, HttpCache } from "../../src/integrations/feeds/feeds.ts";

export function createMemoryHttpCache(): HttpCache & { entries: Map<string, CachedFeed> } {
  const entries = new Map<string, CachedFeed>();
  return { entries, get: (key) => entries.get(key), set: (key, value) => void entries.set(key, value) };
}
