/** @module sources/json — the `json` source kind: a JSON endpoint listing items, its fields mapped. */
import { z } from "zod";
import { once } from "../lazy.ts";
import { defineSource } from "./define.ts";
import { loadFeeds } from "./feed.ts";
import { feedOptions, headerVariables, httpUrl, sourceName } from "./fields.ts";

const schema = z.strictObject({
  type: z.literal("json").describe("A JSON endpoint listing items"),
  url: httpUrl,
  name: sourceName,
  itemsPath: z
    .string()
    .optional()
    .describe('Where the list sits in the document, like "data.items"; the root or "items" when absent'),
  fields: z
    .strictObject({ id: z.string(), title: z.string(), url: z.string(), summary: z.string(), publishedAt: z.string() })
    .partial()
    .optional()
    .describe("Which field of an item holds each value, when the names differ"),
  ...feedOptions,
});
export type JsonSourceSpec = z.output<typeof schema>;

export const jsonSourceDefinition = defineSource({
  types: ["json"],
  schema,
  requiredEnv: headerVariables,
  preload: async () => void (await loadFeeds()),
  create(services) {
    const fetcher = once(async () => (await loadFeeds()).createFeedFetcher(services));
    return async (source, options) => (await fetcher())(source, options.signal ? { signal: options.signal } : {});
  },
});
