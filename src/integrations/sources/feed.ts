/** @module sources/feed — the `rss` and `atom` source kinds (either format is read, whichever the feed serves). */
import { z } from "zod";
import { once } from "../lazy.ts";
import { defineSource } from "./define.ts";
import { feedOptions, headerVariables, httpUrl, sourceName } from "./fields.ts";

const TYPES = ["rss", "atom"] as const;
/** The feeds module (and its XML parser), imported once per process, on the first fetch. */
export const loadFeeds = once(() => import("../feeds/feeds.ts"));

const schema = z.strictObject({
  type: z.enum(TYPES).describe("An RSS or Atom feed (either format is read, whichever the feed serves)"),
  url: httpUrl,
  name: sourceName,
  ...feedOptions,
});
export type FeedSourceSpec = z.output<typeof schema>;

export const feedSourceDefinition = defineSource({
  types: TYPES,
  schema,
  requiredEnv: headerVariables,
  preload: async () => void (await loadFeeds()),
  create(services) {
    const fetcher = once(async () => (await loadFeeds()).createFeedFetcher(services));
    return async (source, options) => (await fetcher())(source, options.signal ? { signal: options.signal } : {});
  },
});
