/**
 * @module blog-autopilot/sanitize — the article's markdown made safe for any blog generator: no raw
 * HTML outside code (escaped, so it shows as text), links only to http(s) and mailto, images only
 * from http(s); anything else keeps its text and loses its link. Works on `marked`'s tokens, not
 * on regexes, so code spans and fences are left exactly as written; a token with nothing unsafe
 * in it is kept byte for byte.
 */
import { Lexer, type Token, type Tokens } from "marked";

const SAFE_LINK = /^(https?:\/\/|mailto:)/i;
const SAFE_IMAGE = /^https?:\/\//i;

type AnyToken = Token & { tokens?: Token[]; items?: Tokens.ListItem[]; href?: string };

const escapeHtml = (text: string) => text.replace(/</g, "&lt;").replace(/>/g, "&gt;");
const trailing = (raw: string) => /\s*$/.exec(raw)?.[0] ?? "";

function children(token: AnyToken): Token[] {
  if (token.type === "table") {
    const table = token as Tokens.Table;
    return [...table.header, ...table.rows.flat()].flatMap((cell) => cell.tokens);
  }
  return [...(token.tokens ?? []), ...(token.items ?? [])];
}

function isUnsafe(token: AnyToken): boolean {
  switch (token.type) {
    case "html":
      return true;
    case "link":
    case "def":
      if (!SAFE_LINK.test((token.href ?? "").trim())) return true;
      break;
    case "image":
      if (!SAFE_IMAGE.test((token.href ?? "").trim())) return true;
      break;
  }
  return children(token).some((child) => isUnsafe(child as AnyToken));
}

function inline(tokens: readonly Token[]): string {
  return tokens.map((token) => inlineToken(token as AnyToken)).join("");
}

function inlineToken(token: AnyToken): string {
  if (!isUnsafe(token)) return token.raw;
  switch (token.type) {
    case "html":
      return escapeHtml(token.raw);
    case "link": {
      const text = inline(token.tokens ?? []);
      if (!SAFE_LINK.test((token.href ?? "").trim())) return text;
      return `[${text}](<${escapeHtml(token.href ?? "")}>)`;
    }
    case "image":
      // An image from elsewhere (data:, javascript:, a relative path) is dropped; its alt text stays.
      return escapeHtml((token as Tokens.Image).text).replace(/[[\]*_`\\]/g, (char) => `\\${char}`);
    case "strong":
      return `${token.raw.slice(0, 2)}${inline(token.tokens ?? [])}${token.raw.slice(0, 2)}`;
    case "em":
      return `${token.raw[0]}${inline(token.tokens ?? [])}${token.raw[0]}`;
    case "del": {
      const marks = /^~+/.exec(token.raw)?.[0] ?? "~~";
      return `${marks}${inline(token.tokens ?? [])}${marks}`;
    }
    default:
      return token.tokens ? inline(token.tokens) : escapeHtml(token.raw);
  }
}

function blocks(tokens: readonly Token[]): string {
  return tokens.map((token) => block(token as AnyToken)).join("");
}

function listItem(item: Tokens.ListItem, fallbackMarker: string): string {
  if (!isUnsafe(item as AnyToken)) return item.raw;
  const marker = /^ {0,3}(?:[*+-]|\d{1,9}[.)])(?: +|$)/.exec(item.raw)?.[0] ?? fallbackMarker;
  const task = item.task ? (/^\[[ xX]\] +/.exec(item.raw.slice(marker.length))?.[0] ?? "") : "";
  const body = blocks(item.tokens.filter((token) => token.type !== "checkbox")).replace(/\s+$/, "");
  return `${marker}${task}${body.replace(/\n(?!\n)/g, `\n${" ".repeat(marker.length)}`)}${trailing(item.raw) || "\n"}`;
}

function tableRow(cells: readonly Tokens.TableCell[]): string {
  return `| ${cells.map((cell) => inline(cell.tokens)).join(" | ")} |`;
}

function block(token: AnyToken): string {
  if (!isUnsafe(token)) return token.raw;
  const end = trailing(token.raw);
  switch (token.type) {
    case "html":
      return escapeHtml(token.raw);
    case "def":
      return "";
    case "paragraph":
    case "text":
      return `${token.tokens ? inline(token.tokens) : escapeHtml(token.raw.trimEnd())}${end}`;
    case "heading":
      return `${"#".repeat((token as Tokens.Heading).depth)} ${inline(token.tokens ?? [])}${end || "\n"}`;
    case "blockquote": {
      const inner = blocks(token.tokens ?? []).replace(/\s+$/, "");
      return `${inner
        .split("\n")
        .map((line) => (line ? `> ${line}` : ">"))
        .join("\n")}${end || "\n"}`;
    }
    case "list": {
      const list = token as Tokens.List;
      const start = Number(list.start) || 1;
      return list.items.map((item, index) => listItem(item, list.ordered ? `${start + index}. ` : "- ")).join("");
    }
    case "table": {
      const table = token as Tokens.Table;
      const align = table.align.map((a) =>
        a === "left" ? ":--" : a === "right" ? "--:" : a === "center" ? ":-:" : "---",
      );
      return `${[tableRow(table.header), `| ${align.join(" | ")} |`, ...table.rows.map(tableRow)].join("\n")}${end || "\n"}`;
    }
    default:
      return token.tokens ? `${blocks(token.tokens)}${end}` : escapeHtml(token.raw);
  }
}

/** `markdown` with raw HTML escaped (outside code) and only http(s)/mailto links and http(s) images. */
export function sanitizeArticleMarkdown(markdown: string): string {
  return blocks(Lexer.lex(markdown, { gfm: true }));
}

/** The http(s) and mailto targets of the article's links and images, once each, in order: for the reviewer. */
export function externalLinks(markdown: string): string[] {
  const found = new Set<string>();
  const walk = (tokens: readonly Token[]) => {
    for (const token of tokens as AnyToken[]) {
      if ((token.type === "link" || token.type === "image") && SAFE_LINK.test((token.href ?? "").trim()))
        found.add((token.href ?? "").trim());
      walk(children(token));
    }
  };
  walk(Lexer.lex(markdown, { gfm: true }));
  return [...found];
}
