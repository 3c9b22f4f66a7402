/**
 * @module data-digest/synthesize — asks Claude to organise the new items: a title, an intro line
 * and themes of item ids, each with one line on why it matters. The model refers to items only by
 * id; links are rendered by us from the items themselves.
 */
import { readFileSync } from "node:fs";
import { createPromptFence, fillTemplate, oneLine, z, type ClaudeClient, type FeedItem } from "sundial";
import { asDigestItem } from "./merge.ts";

export const DigestPlanSchema = z.object({
  title: z.string().describe("A short headline for this digest, naming its most important news; plain text"),
  intro: z.string().describe("One sentence telling the reader what this digest holds and what stands out; plain text"),
  groups: z
    .array(
      z.object({
        theme: z.string().describe("The theme's name, two to five words"),
        items: z.array(
          z.object({
            id: z.string().describe('An item id exactly as given in the list, like "i3"'),
            why: z.string().describe("One line on why this item matters to the audience; no links"),
          }),
        ),
      }),
    )
    .describe("Themes, the most important first; within a theme, the most important item first"),
});
export type DigestPlan = z.infer<typeof DigestPlanSchema>;

export interface DigestRequest {
  focus: string;
  audience: string;
  maxTokens: number;
}

const SUMMARY_CHARS = 300;
const PROMPTS = new URL("./prompts/", import.meta.url);

/**
 * Read at run time, so an edited prompt applies to the next run without touching code. HTML
 * comments are notes for whoever edits the file and are not sent.
 */
export function readPrompt(file: string): string {
  return readFileSync(new URL(file, PROMPTS), "utf8")
    .replace(/<!--[\s\S]*?-->\s*/g, "")
    .trim();
}

/** The id the model sees for the item at `index`: short, so it is copied back exactly. */
export const refOf = (index: number): string => `i${index + 1}`;

function sourcesLabel(item: FeedItem): string {
  const sources = asDigestItem(item).sources;
  return sources.length > 1 ? `sources: ${sources.join(", ")}` : `source: ${item.source}`;
}

export function describeItems(items: readonly FeedItem[]): string {
  return items
    .map((item, index) => {
      const facts = [
        `${sourcesLabel(item)}`,
        item.publishedAt ? `published: ${item.publishedAt}` : "",
        item.url ? `url: ${item.url}` : "",
      ].filter(Boolean);
      const summary = item.summary ? `\n  ${oneLine(item.summary, SUMMARY_CHARS)}` : "";
      return `[${refOf(index)}] ${oneLine(item.title, 300)}\n  ${facts.join(" · ")}${summary}`;
    })
    .join("\n");
}

/**
 * The request for `items`. The items are what the sources wrote (anyone can publish a feed), so
 * they are fenced with a per-call token they cannot close; the template names it as {{fence}}.
 */
export function digestPrompt(
  items: readonly FeedItem[],
  request: Pick<DigestRequest, "focus" | "audience">,
  fence = createPromptFence(),
): string {
  return fillTemplate(
    readPrompt("digest.md"),
    {
      focus: request.focus,
      audience: request.audience,
      count: String(items.length),
      fence: fence.token,
      items: fence.wrap("items", describeItems(items)),
    },
    { name: "data-digest: prompts/digest.md" },
  );
}

export async function askForDigest(
  claude: ClaudeClient,
  items: readonly FeedItem[],
  request: DigestRequest,
): Promise<DigestPlan> {
  const prompt = digestPrompt(items, request);
  return claude.structured({
    system: readPrompt("system.md"),
    prompt,
    schema: DigestPlanSchema,
    name: "digest",
    description: "The digest's title, intro and themed groups of item ids",
    maxTokens: request.maxTokens,
  });
}
