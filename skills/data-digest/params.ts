/** @module data-digest/params — the skill's params as users write them in schedules.json. */
import { requiredSourceEnv, sourceSpecSchema, z } from "sundial";

/** The focus when a job gives none: says nothing about topics, so it orders nothing (newest first). */
export const DEFAULT_FOCUS = "what changed and why it matters";

export const DataDigestParams = z.strictObject({
  sources: z.array(sourceSpecSchema).min(1).describe("Where the items come from"),
  focus: z
    .string()
    .min(1)
    .default(DEFAULT_FOCUS)
    .describe(
      "What the digest is about and what counts as important; items that fit it best come first when more are new than maxItems",
    ),
  audience: z.string().min(1).default("a busy software engineer").describe("Who reads the digest"),
  maxItems: z
    .number()
    .int()
    .min(1)
    .max(200)
    .default(30)
    .describe(
      "At most this many items per digest, best fit to the focus first (newest first with the default focus); the rest wait for the next one",
    ),
  synthesize: z
    .boolean()
    .default(true)
    .describe("Ask Claude to group and comment the items; false gives a plain list by source, at no model cost"),
  maxTokens: z.number().int().min(1024).max(64_000).default(8000).describe("Claude's answer budget, thinking included"),
  title: z.string().min(1).default("Digest").describe("The digest's title, before the headline"),
  sourceTimeout: z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration like "60s" or "2m"')
    .default("60s")
    .describe("A source that has not answered by then is reported as unreadable and the digest goes on"),
});
export type DataDigestParams = z.output<typeof DataDigestParams>;

/** What `check` must find set: Claude's key only when Claude is asked, and what each source needs (as its kind says). */
export function requiredEnv(params: DataDigestParams): string[] {
  return [
    ...new Set([...(params.synthesize ? ["ANTHROPIC_API_KEY"] : []), ...params.sources.flatMap(requiredSourceEnv)]),
  ];
}
