/**
 * @module discord-messages — an output as Discord message payloads within every Discord limit
 * (split at paragraphs, then lines, then words, then anywhere; code fences kept balanced), pinging
 * nobody; and the same payloads rendered as text for `--dry-run`.
 *
 * Layout: the first message carries the links of earlier deliveries ("Pull request: <url>") as
 * content, the title and summary as an embed, and the output's images as attachments; the body
 * (plus the output's links) follows as plain messages of at most 2,000 characters. Files that are
 * not images are not attached (the pull request or file delivery carries them): they are listed in
 * `notAttached`, which the adapter keeps in its receipt and the preview shows.
 */
import type { APIEmbed } from "discord-api-types/v10";
import type { Output, OutputFile, Receipt } from "../types.ts";

export const DISCORD_LIMITS = {
  content: 2000,
  embedTitle: 256,
  embedDescription: 4096,
  embedsTotal: 6000,
  embedsPerMessage: 10,
  filesPerMessage: 10,
  fileBytes: 10 * 1024 * 1024,
} as const;

/** Model text may say "@everyone": nothing it writes may ping anyone. */
export const NO_MENTIONS = { parse: [] as [] };

export interface DiscordAttachment {
  name: string;
  data: Uint8Array;
}

export interface DiscordMessage {
  body: { content?: string; embeds?: APIEmbed[]; allowed_mentions: typeof NO_MENTIONS };
  files: DiscordAttachment[];
}

export interface DiscordMessagePlan {
  messages: DiscordMessage[];
  notAttached: { path: string; reason: string }[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const IMAGE = /\.(png|jpe?g|gif|webp)$/i;
const RECEIPT_LABELS: Record<string, string> = { "github-pr": "Pull request", discord: "Discord", file: "File" };

interface Fence {
  marker: string;
  reopen: string;
}

/** For each line, the code fence open before it (null outside code); one more entry for the end. */
function fenceStates(lines: readonly string[]): (Fence | null)[] {
  const states: (Fence | null)[] = [];
  let open: Fence | null = null;
  for (const line of lines) {
    states.push(open);
    const [, marker = "", info = ""] = FENCE.exec(line) ?? [];
    if (!marker) continue;
    if (open === null) {
      if (!(marker.startsWith("`") && info.includes("`")))
        open = { marker, reopen: `${marker}${info.trim().split(/\s+/)[0] ?? ""}` };
    } else if (marker[0] === open.marker[0] && marker.length >= open.marker.length && info.trim() === "") {
      open = null;
    }
  }
  states.push(open);
  return states;
}

/** Index at which to cut `line` to keep at most `room` characters: the last space, else anywhere. */
function cutIndex(line: string, room: number): { at: number; skip: number } {
  const space = Math.max(line.lastIndexOf(" ", room), line.lastIndexOf("\t", room));
  if (space > room / 2) return { at: space, skip: 1 };
  const code = line.charCodeAt(room - 1);
  return { at: code >= 0xd800 && code <= 0xdbff && room > 1 ? room - 1 : room, skip: 0 }; // never halve a surrogate pair
}

/**
 * Splits markdown into parts of at most `limit` characters, preferring blank lines, then line ends,
 * then spaces; a part that ends inside a code block closes it and the next reopens it with the same
 * language. Only whitespace at a cut is dropped; everything else arrives, in order.
 */
export function splitMarkdown(text: string, limit: number): string[] {
  const lines = text.split("\n");
  const fences = fenceStates(lines);
  const parts: string[] = [];
  let start = 0;
  while (start < lines.length) {
    const open = fences[start] ?? null;
    if (open === null && (lines[start] as string).trim() === "") {
      start++;
      continue;
    }
    const prefix = open ? `${open.reopen}\n` : "";
    let size = prefix.length - 1;
    let lastFit = -1;
    let lastParagraph = -1;
    for (let end = start + 1; end <= lines.length; end++) {
      size += 1 + (lines[end - 1] as string).length;
      if (size > limit) break;
      const after = fences[end] ?? null;
      if (size + (after ? after.marker.length + 1 : 0) > limit) continue;
      lastFit = end;
      if (end === lines.length || (after === null && (lines[end] as string).trim() === "")) lastParagraph = end;
    }
    if (lastFit === -1) {
      const close = open ? `\n${open.marker}` : "";
      const room = limit - prefix.length - close.length;
      if (room < 1) throw new Error(`a code fence line is too long to split within ${limit} characters`);
      const line = lines[start] as string;
      const cut = cutIndex(line, room);
      parts.push(`${prefix}${line.slice(0, cut.at)}${close}`);
      lines[start] = line.slice(cut.at + cut.skip);
      continue;
    }
    let end = lastParagraph > start ? lastParagraph : lastFit;
    while (end - 1 > start && fences[end - 1] === null && (lines[end - 1] as string).trim() === "") end--;
    const after = fences[end] ?? null;
    parts.push(`${prefix}${lines.slice(start, end).join("\n")}${after ? `\n${after.marker}` : ""}`);
    start = end;
  }
  return parts;
}

export function embedSize(embed: APIEmbed): number {
  const fields = (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0);
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    fields +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0)
  );
}

/** Groups embeds, in order, into messages of at most 10 embeds and 6,000 characters. */
export function packEmbeds(embeds: readonly APIEmbed[]): APIEmbed[][] {
  const groups: APIEmbed[][] = [];
  let current: APIEmbed[] = [];
  let size = 0;
  for (const embed of embeds) {
    const next = embedSize(embed);
    if (
      current.length > 0 &&
      (current.length === DISCORD_LIMITS.embedsPerMessage || size + next > DISCORD_LIMITS.embedsTotal)
    ) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(embed);
    size += next;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function headerEmbeds(output: Output, url: string | undefined): APIEmbed[] {
  let title = output.title.trim();
  let description = output.summary?.trim() ?? "";
  if (title.length > DISCORD_LIMITS.embedTitle) {
    // The embed shows a shortened title; the full one opens the description, so none of it is lost.
    description = `**${title}**\n\n${description}`.trim();
    title = `${title.slice(0, cutIndex(title, DISCORD_LIMITS.embedTitle - 1).at).trimEnd()}…`;
  }
  const pieces = splitMarkdown(description, DISCORD_LIMITS.embedDescription);
  const first: APIEmbed = {
    ...(title ? { title } : {}),
    ...(url ? { url } : {}),
    ...(pieces[0] ? { description: pieces[0] } : {}),
  };
  const rest = pieces.slice(1).map((piece): APIEmbed => ({ description: piece }));
  return first.title || first.description ? [first, ...rest] : rest;
}

function bodyText(output: Output): string {
  const links = (output.links ?? []).map((link) => `- [${link.title.replace(/[[\]]/g, "")}](${link.url})`);
  return [output.markdown.trim(), links.length ? `**Links**\n${links.join("\n")}` : ""].filter(Boolean).join("\n\n");
}

function pickAttachments(
  files: readonly OutputFile[],
): Pick<DiscordMessagePlan, "notAttached"> & { attachments: DiscordAttachment[] } {
  const attachments: DiscordAttachment[] = [];
  const notAttached: DiscordMessagePlan["notAttached"] = [];
  const names = new Set<string>();
  for (const file of files) {
    const base = file.path.split(/[\\/]/).pop() || "file";
    if (!IMAGE.test(base))
      notAttached.push({ path: file.path, reason: "not an image; the pull request or file delivery carries it" });
    else if (typeof file.content === "string")
      notAttached.push({ path: file.path, reason: "image given as text, not bytes" });
    else if (file.content.byteLength > DISCORD_LIMITS.fileBytes)
      notAttached.push({ path: file.path, reason: "larger than Discord's 10 MiB upload limit" });
    else {
      let name = base;
      for (let n = 2; names.has(name); n++) name = base.replace(/(\.[^.]+)$/, `-${n}$1`);
      names.add(name);
      attachments.push({ name, data: file.content });
    }
  }
  return { attachments, notAttached };
}

/** Every message the output becomes, in sending order, each within Discord's limits. */
export function buildDiscordMessages(output: Output, earlier: readonly Receipt[] = []): DiscordMessagePlan {
  const linked = earlier.filter((receipt) => receipt.url && /^https?:\/\//.test(receipt.url));
  const prUrl = linked.find((receipt) => receipt.to === "github-pr")?.url;
  const intro = splitMarkdown(
    linked.map((receipt) => `${RECEIPT_LABELS[receipt.to] ?? receipt.to}: ${receipt.url}`).join("\n"),
    DISCORD_LIMITS.content,
  );
  const embedGroups = packEmbeds(headerEmbeds(output, prUrl));
  const bodies: DiscordMessage["body"][] = [];
  const firstGroups = embedGroups.length > 0 ? embedGroups : [undefined];
  firstGroups.forEach((embeds, i) => {
    const content = i === 0 ? intro[0] : undefined;
    if (content || embeds)
      bodies.push({ ...(content ? { content } : {}), ...(embeds ? { embeds } : {}), allowed_mentions: NO_MENTIONS });
  });
  for (const content of [...intro.slice(1), ...splitMarkdown(bodyText(output), DISCORD_LIMITS.content)]) {
    bodies.push({ content, allowed_mentions: NO_MENTIONS });
  }
  const { attachments, notAttached } = pickAttachments(output.files ?? []);
  const messages: DiscordMessage[] = bodies.map((body) => ({ body, files: [] }));
  for (let i = 0; i * DISCORD_LIMITS.filesPerMessage < attachments.length; i++) {
    const files = attachments.slice(i * DISCORD_LIMITS.filesPerMessage, (i + 1) * DISCORD_LIMITS.filesPerMessage);
    const message = messages[i];
    if (message) message.files = files;
    else messages.push({ body: { allowed_mentions: NO_MENTIONS }, files });
  }
  return { messages, notAttached };
}

/** The plan as a person would read it, message by message, for `--dry-run`. */
export function renderDiscordPreview(plan: DiscordMessagePlan, destination: string): string {
  const total = plan.messages.length;
  const out = [`Discord → ${destination}: ${total} message${total === 1 ? "" : "s"}, pinging nobody`];
  plan.messages.forEach(({ body, files }, i) => {
    out.push(`── message ${i + 1} of ${total} ──`);
    if (body.content) out.push(body.content);
    for (const embed of body.embeds ?? []) {
      out.push(`[embed] ${embed.title ?? "(continued)"}${embed.url ? ` <${embed.url}>` : ""}`);
      if (embed.description) out.push(embed.description);
    }
    for (const file of files) out.push(`[attachment] ${file.name} (${file.data.byteLength} bytes)`);
  });
  for (const file of plan.notAttached) out.push(`Not attached: ${file.path} (${file.reason})`);
  return `${out.join("\n")}\n`;
}
