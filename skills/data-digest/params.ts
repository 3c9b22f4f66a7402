/** @module data-digest/params — the skill's params as users write them in schedules.json. */
import { z } from "sundial";

const name = z.string().min(1).optional().describe("How the source is named in the digest and the run's steps");
const httpUrl = z.url({ protocol: /^https?$/, error: 'not an http(s) URL; write the full address, like "https://example.com/feed.xml"' }).describe("The full http(s) address");

const maxBytes = z.number().int().min(1024).max(512 * 1024 * 1024).optional().describe("Bytes a response may have (default 5 MB for feeds); a larger one fails the source");
const feedOptions = {
  maxItems: z.number().int().min(1).max(10_000).optional().describe("Items read from the feed, first in the document first (default 100)"),
  maxBytes,
  headersEnv: z
    .record(z.string().regex(/^[A-Za-z0-9-]+$/, "a header name"), z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name, like FEED_TOKEN"))
    .optional()
    .describe('Request headers whose values come from environment variables, like {"Authorization": "FEED_TOKEN"}; the values are kept secret'),
};

const FeedSource = z.strictObject({
  type: z.enum(["rss", "atom"]).describe("An RSS or Atom feed (either format is read, whichever the feed serves)"),
  url: httpUrl,
  name,
  ...feedOptions,
});
const JsonSource = z.strictObject({
  type: z.literal("json").describe("A JSON endpoint listing items"),
  url: httpUrl,
  name,
  itemsPath: z.string().optional().describe('Where the list sits in the document, like "data.items"; the root or "items" when absent'),
  fields: z
    .strictObject({ id: z.string(), title: z.string(), url: z.string(), summary: z.string(), publishedAt: z.string() })
    .partial()
    .optional()
    .describe("Which field of an item holds each value, when the names differ"),
  ...feedOptions,
});
const GitHubSource = z.strictObject({
  type: z.literal("github").describe("A GitHub repository: releases published and pull requests merged"),
  repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'write the repository as "owner/name"'),
  name,
});

export const DataDigestParams = z.strictObject({
  sources: z.array(z.discriminatedUnion("type", [FeedSource, JsonSource, GitHubSource])).min(1).describe("Where the items come from"),
  focus: z.string().min(1).default("what changed and why it matters").describe("What the digest is about and what counts as important"),
  audience: z.string().min(1).default("a busy software engineer").describe("Who reads the digest"),
  maxItems: z.number().int().min(1).max(200).default(30).describe("At most this many items per digest, newest first; the rest wait for the next one"),
  synthesize: z.boolean().default(true).describe("Ask Claude to group and comment the items; false gives a plain list by source, at no model cost"),
  maxTokens: z.number().int().min(1024).max(64_000).default(8000).describe("Claude's answer budget, thinking included"),
  title: z.string().min(1).default("Digest").describe("The digest's title, before the headline"),
  sourceTimeout: z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration like "60s" or "2m"')
    .default("60s")
    .describe("A source that has not answered by then is reported as unreadable and the digest goes on"),
});
export type DataDigestParams = z.output<typeof DataDigestParams>;

/** What `check` must find set: Claude's key only when Claude is asked, GitHub's token for repositories. */
export function requiredEnv(params: DataDigestParams): string[] {
  const headerVariables = params.sources.flatMap((source) => (source.type === "github" ? [] : Object.values(source.headersEnv ?? {})));
  return [
    ...(params.synthesize ? ["ANTHROPIC_API_KEY"] : []),
    ...(params.sources.some((source) => source.type === "github") ? ["GITHUB_TOKEN"] : []),
    ...new Set(headerVariables),
  ];
}
