/**
 * @module parse-xml — RSS 2.0 (and 0.9x / 1.0 RDF) and Atom documents to `FeedItem`s, detected by
 * their root element, plus the text helpers (HTML to text, dates, fallback ids) the JSON parser shares.
 */
import { createHash } from "node:crypto";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { FeedItem } from "../../types.ts";
import { clip } from "../../util/text.ts";

/** Where the items came from: the feed's URL (to resolve relative links) and the item `source`. */
export interface FeedOrigin {
  url: string;
  source: string;
}

export const SUMMARY_MAX_CHARS = 500;
/** Items read from one feed when its source sets no `maxItems`: a feed is newest first, and a digest needs few. */
export const DEFAULT_MAX_ITEMS = 100;

type XmlNode = Record<string, unknown>;

/** Parses a feed body; throws "not valid RSS/Atom: …" when it is not well-formed or not a feed. */
export function parseXmlFeed(xml: string, origin: FeedOrigin, maxItems = DEFAULT_MAX_ITEMS): FeedItem[] {
  const verdict = XMLValidator.validate(xml);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    throw new Error(`not valid RSS/Atom: ${msg} (line ${line}, column ${col})`);
  }
  const doc = createParser().parse(xml) as XmlNode;
  const rss = doc["rss"];
  if (isNode(rss)) return toItems(child(rss, "channel")?.["item"], (raw) => rssItem(raw, origin), maxItems);
  const rdf = doc["rdf:RDF"];
  if (isNode(rdf)) return toItems(rdf["item"], (raw) => rssItem(raw, origin), maxItems);
  const feed = doc["feed"];
  if (isNode(feed)) return toItems(feed["entry"], (raw) => atomEntry(raw, origin), maxItems);
  const root = Object.keys(doc).find((key) => !key.startsWith("?") && !key.startsWith("!"));
  throw new Error(
    `not valid RSS/Atom: the root element is ${root ? `<${root}>` : "missing"}, expected <rss>, <feed> or <rdf:RDF>`,
  );
}

function createParser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    // Keep every value a string: a guid "0123" or a title "2024" must not become a number.
    parseTagValue: false,
    // Without it fast-xml-parser leaves numeric references (&#8217;) undecoded, even though XML defines them.
    htmlEntities: true,
    // Atom XHTML content is markup: keep it raw so htmlToText sees the words in their order.
    stopNodes: ["..content[type=xhtml]", "..summary[type=xhtml]", "..title[type=xhtml]"],
  });
}

function toItems(list: unknown, map: (raw: XmlNode) => FeedItem, maxItems: number): FeedItem[] {
  // A lone <item> parses to an object, not a list of one; an empty <item/> to "", which carries nothing.
  return asArray(list).filter(isNode).slice(0, maxItems).map(map);
}

function rssItem(raw: XmlNode, origin: FeedOrigin): FeedItem {
  const guid = textOf(first(raw, "guid"));
  const link = textOf(first(raw, "link"));
  const guidIsLink = attribute(first(raw, "guid"), "isPermaLink") !== "false" && /^https?:\/\//i.test(guid ?? "");
  const title = decodeEntities(textOf(first(raw, "title")) ?? "");
  const date = textOf(first(raw, "pubDate")) ?? textOf(first(raw, "dc:date"));
  const summary = htmlToText(textOf(first(raw, "description")) ?? textOf(first(raw, "content:encoded")) ?? "");
  const url = resolveUrl(link ?? (guidIsLink ? guid : undefined), origin.url);
  // RSS 1.0 items carry their identity in rdf:about.
  const id = guid ?? url ?? link ?? attribute(raw, "rdf:about") ?? fallbackId(title, date, summary);
  return toFeedItem({ id, title, url, summary, date, source: origin.source });
}

function atomEntry(raw: XmlNode, origin: FeedOrigin): FeedItem {
  const links = asArray(raw["link"]).filter(isNode);
  const alternate = links.find((link) => (attribute(link, "rel") ?? "alternate") === "alternate") ?? links[0];
  const href = attribute(alternate, "href");
  const title = atomText(first(raw, "title")) ?? "";
  const date = textOf(first(raw, "published")) ?? textOf(first(raw, "updated"));
  const summary = atomText(first(raw, "summary")) ?? atomText(first(raw, "content")) ?? "";
  const url = resolveUrl(href, origin.url);
  const id = textOf(first(raw, "id")) ?? url ?? href ?? fallbackId(title, date, summary);
  return toFeedItem({ id, title, url, summary, date, source: origin.source });
}

/** The FeedItem both parsers build: a title always present, empty fields left out, dates in ISO. */
export function toFeedItem(fields: {
  id: string;
  title: string;
  url?: string;
  summary: string;
  date?: string | number;
  source: string;
}): FeedItem {
  const summary = clip(fields.summary, SUMMARY_MAX_CHARS);
  const title = fields.title.replace(/\s+/g, " ").trim() || clip(summary, 80) || "(untitled)";
  const result: FeedItem = { id: fields.id, title, source: fields.source };
  if (fields.url) result.url = fields.url;
  if (summary) result.summary = summary;
  const publishedAt = toIsoDate(fields.date);
  if (publishedAt) result.publishedAt = publishedAt;
  return result;
}

/** Atom text constructs: `type="text"` (the default) is plain text; `html` and `xhtml` are markup. */
function atomText(node: unknown): string | undefined {
  const text = textOf(node);
  if (text === undefined) return undefined;
  const type = attribute(node, "type") ?? "text";
  return type === "text" ? text.replace(/\s+/g, " ").trim() : htmlToText(text);
}

/** The text of an element: its value, its `#text`, or (for stray markup) its children's text joined. */
function textOf(node: unknown): string | undefined {
  if (typeof node === "string" || typeof node === "number") return String(node).trim() || undefined;
  if (Array.isArray(node)) return node.map(textOf).filter(Boolean).join(" ") || undefined;
  if (!isNode(node)) return undefined;
  const parts = Object.entries(node)
    .filter(([key]) => !key.startsWith("@_"))
    .map(([, value]) => textOf(value));
  return parts.filter(Boolean).join(" ") || undefined;
}

function attribute(node: unknown, name: string): string | undefined {
  const value = isNode(node) ? node[`@_${name}`] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** A field meant to appear once; a feed that repeats it gets its first occurrence. */
function first(node: XmlNode, name: string): unknown {
  return asArray(node[name])[0];
}

function child(node: XmlNode, name: string): XmlNode | undefined {
  const value = first(node, name);
  return isNode(value) ? value : undefined;
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

// ─── Text helpers shared with parse-json ─────────────────────────────────────────────────────────

const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  bull: "•",
  middot: "·",
  copy: "©",
  reg: "®",
  trade: "™",
  euro: "€",
  pound: "£",
  eacute: "é",
  egrave: "è",
  agrave: "à",
  aacute: "á",
  ccedil: "ç",
  uuml: "ü",
  ouml: "ö",
  auml: "ä",
  szlig: "ß",
  ntilde: "ñ",
};

/** Decodes HTML entities once more: feeds often escape them twice (`&amp;#8217;`). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith("#")) {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

const BLOCK_TAGS = new Set([
  "p",
  "div",
  "br",
  "hr",
  "li",
  "ul",
  "ol",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "tr",
  "td",
  "th",
  "table",
  "blockquote",
  "pre",
  "section",
  "article",
  "figure",
  "figcaption",
]);
/** More markup than any summary needs: a description is cut to this before it is read. */
export const HTML_INPUT_MAX_CHARS = 64 * 1024;

/**
 * HTML to one line of plain text, in one pass: each construct's closer is searched for once, and a
 * missing closer ends the scan (the rest is inside that construct), so an input full of unclosed
 * `<p`, `<!--` or `<![CDATA[` costs linear time instead of a search from every opener. `a < b`
 * survives because a tag must start with a letter (or `/` and a letter).
 */
export function htmlToText(html: string): string {
  const input = html.length > HTML_INPUT_MAX_CHARS ? html.slice(0, HTML_INPUT_MAX_CHARS) : html;
  const out: string[] = [];
  let i = 0;
  let textStart = 0;
  const flush = (end: number) => {
    if (end > textStart) out.push(input.slice(textStart, end));
  };
  while (i < input.length) {
    const lt = input.indexOf("<", i);
    if (lt < 0) break;
    const next = input.charCodeAt(lt + 1);
    if (input.startsWith("<!--", lt)) {
      flush(lt);
      const end = input.indexOf("-->", lt + 4);
      if (end < 0) return finish(out, "");
      i = textStart = end + 3;
    } else if (input.startsWith("<![CDATA[", lt)) {
      flush(lt);
      const end = input.indexOf("]]>", lt + 9);
      const inner = input.slice(lt + 9, end < 0 ? input.length : end);
      out.push(inner);
      if (end < 0) return finish(out, "");
      i = textStart = end + 3;
    } else if (isLetter(next) || (next === 0x2f /* / */ && isLetter(input.charCodeAt(lt + 2)))) {
      flush(lt);
      const end = input.indexOf(">", lt + 1);
      // No `>` anywhere after: the rest is one unfinished tag, which shows nothing.
      if (end < 0) return finish(out, "");
      const name = tagName(input, next === 0x2f ? lt + 2 : lt + 1);
      if (BLOCK_TAGS.has(name)) out.push(" ");
      i = textStart = end + 1;
      if ((name === "script" || name === "style") && next !== 0x2f) {
        const close = new RegExp(`</${name}\\s*>`, "gi");
        close.lastIndex = i;
        const found = close.exec(input);
        if (!found) return finish(out, "");
        out.push(" ");
        i = textStart = found.index + found[0].length;
      }
    } else {
      i = lt + 1;
    }
  }
  flush(input.length);
  return finish(out, "");
}

function finish(parts: string[], tail: string): string {
  return decodeEntities(parts.join("") + tail)
    .replace(/\s+/g, " ")
    .trim();
}

function isLetter(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
}

function tagName(text: string, from: number): string {
  let end = from;
  while (end < text.length && end - from < 16 && /[A-Za-z0-9]/.test(text[end] as string)) end++;
  return text.slice(from, end).toLowerCase();
}

/** RFC 822, RFC 3339 or epoch (seconds or milliseconds) to ISO 8601 UTC; undefined when unreadable. */
export function toIsoDate(value: string | number | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = typeof value === "number" ? (Math.abs(value) < 1e11 ? value * 1000 : value) : Date.parse(value.trim());
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

/** An id for an item that has none: the same title and date give the same id on every fetch. */
export function fallbackId(title: string, date: string | undefined, body: string): string {
  const basis = title || date ? `${title}\n${date ?? ""}` : body;
  return `sha256:${createHash("sha256").update(basis).digest("hex").slice(0, 32)}`;
}

/** Resolves a link against the feed's URL; drops it when it is not a URL at all. */
export function resolveUrl(link: string | undefined, base: string): string | undefined {
  if (!link) return undefined;
  try {
    return new URL(link, base).href;
  } catch {
    return undefined;
  }
}
