/** @module sources/fields — the fields every http source shares (name, url, limits, headers from env). */
import { z } from "zod";

export const sourceName = z
  .string()
  .min(1)
  .optional()
  .describe("How the source is named in the digest and the run's steps");
export const httpUrl = z
  .url({
    protocol: /^https?$/,
    error: 'not an http(s) URL; write the full address, like "https://example.com/feed.xml"',
  })
  .describe("The full http(s) address");

export const feedOptions = {
  maxItems: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe("Items read from the feed, first in the document first (default 100)"),
  maxBytes: z
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .optional()
    .describe("Bytes a response may have (default 5 MB for feeds); a larger one fails the source"),
  headersEnv: z
    .record(
      z.string().regex(/^[A-Za-z0-9-]+$/, "a header name"),
      z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name, like FEED_TOKEN"),
    )
    .optional()
    .describe(
      'Request headers whose values come from environment variables, like {"Authorization": "FEED_TOKEN"}; the values are kept secret',
    ),
};

/** The variables a source's `headersEnv` names. */
export function headerVariables(source: { headersEnv?: Record<string, string> }): string[] {
  return Object.values(source.headersEnv ?? {});
}
