/**
 * @module data-digest/render — the digest as markdown, built by us so that every link is the
 * item's real URL: from Claude's plan (themes of item ids) or, without Claude, as a plain list
 * grouped by source. Each item is one line, so a split between messages never breaks a link.
 */
import { escapeDiscordText, oneLine, stripUrlUserinfo, type FeedItem } from "sundial";
import type { SourceFailure } from "./gather.ts";
import { asDigestItem } from "./merge.ts";
import type { DigestPlan } from "./synthesize.ts";

export interface DigestFacts {
  failures: readonly SourceFailure[];
  /** New items beyond maxItems, left for the next digest. */
  held: number;
}

const TITLE_CHARS = 200;
const WHY_CHARS = 300;

/**
 * Markdown's inline markers escaped, so a title shows as written and cannot break its link. `#`
 * is left alone: escaped text never starts a line here, so it cannot become a heading.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_~|[\]<>]/g, (char) => `\\${char}`);
}

/** `[title](<url>)`: the angle brackets allow parentheses in the URL and keep Discord from previewing each link. */
export function linkTo(item: FeedItem): string {
  // A URL in a title stays text (a zero-width space after its colon): the only link is the item's.
  const title = escapeMarkdown(oneLine(item.title, TITLE_CHARS)).replace(/:\/\//g, ":\u200b//") || "(untitled)";
  if (!item.url || !/^https?:\/\//i.test(item.url)) return title;
  const url = item.url.replace(/[<>\s]/g, (char) => encodeURIComponent(char));
  return `[${title}](<${url}>)`;
}

/**
 * The model's text (why, theme, title, intro) comes from what feeds and transcripts said: it is
 * plain text, escaped so it can plant no link, mention or heading beside the items' real links.
 */
export function plainText(text: string, max: number): string {
  return escapeDiscordText(oneLine(text, max));
}

/** Every source that carried the item (a story merged from several names them all). */
export function sourcesOf(item: FeedItem): string {
  return asDigestItem(item)
    .sources.map((source) => escapeMarkdown(oneLine(source, 80)))
    .join(", ");
}

export function itemLine(item: FeedItem, why?: string): string {
  const comment = why ? plainText(why, WHY_CHARS) : "";
  return `- ${linkTo(item)} (${sourcesOf(item)})${comment ? ` — ${comment}` : ""}`;
}

export function footer(facts: DigestFacts): string {
  // A cause may quote the source's URL: its credentials (user:pass@) stay out of the digest.
  const lines = facts.failures.map(
    (failure) => `Could not read: ${escapeMarkdown(failure.name)} (${escapeMarkdown(stripUrlUserinfo(failure.cause))})`,
  );
  if (facts.held > 0)
    lines.push(`${facts.held} more new item${facts.held === 1 ? "" : "s"} will come in the next digest.`);
  return lines.join("\n");
}

function section(heading: string, lines: readonly string[]): string {
  return `### ${plainText(heading, 120)}\n${lines.join("\n")}`;
}

/**
 * The plan's themes (its title and intro go in the output's header), each id replaced by its item:
 * unknown ids and repeats are dropped, and items the model left out are listed under "Also new",
 * so the digest covers every selected item exactly once.
 */
export function renderPlan(plan: DigestPlan, items: ReadonlyMap<string, FeedItem>, facts: DigestFacts): string {
  const used = new Set<string>();
  const sections: string[] = [];
  for (const group of plan.groups) {
    const lines: string[] = [];
    for (const entry of group.items) {
      const id = entry.id.trim();
      const item = items.get(id);
      if (!item || used.has(id)) continue;
      used.add(id);
      lines.push(itemLine(item, entry.why));
    }
    if (lines.length > 0) sections.push(section(group.theme || "More", lines));
  }
  const rest = [...items].filter(([id]) => !used.has(id)).map(([, item]) => itemLine(item));
  if (rest.length > 0) sections.push(section("Also new", rest));
  return [...sections, footer(facts)].filter(Boolean).join("\n\n");
}

/** Without Claude: the items grouped by (first) source, sources in the order their first item comes; a story from several sources names the others. */
export function renderPlainList(items: readonly FeedItem[], facts: DigestFacts): string {
  const bySource = new Map<string, FeedItem[]>();
  for (const item of items) bySource.set(item.source, [...(bySource.get(item.source) ?? []), item]);
  const sections = [...bySource].map(([source, list]) =>
    section(
      source,
      list.map((item) => {
        const others = asDigestItem(item).sources.slice(1);
        const also = others.length
          ? ` · also in ${others.map((other) => escapeMarkdown(oneLine(other, 80))).join(", ")}`
          : "";
        return `- ${linkTo(item)}${item.publishedAt ? ` · ${item.publishedAt.slice(0, 10)}` : ""}${also}`;
      }),
    ),
  );
  return [...sections, footer(facts)].filter(Boolean).join("\n\n");
}
