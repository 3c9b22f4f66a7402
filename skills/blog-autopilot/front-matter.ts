/**
 * @module blog-autopilot/front-matter — front matter as blogs write it: read (YAML between `---`,
 * TOML between `+++`) with the raw text of each top-level key kept, so the style of a value (a
 * quoted date, a flow list) can be learned; and written back in a learned format and style.
 */
import { Document, isMap, isSeq, parse as parseYaml, Scalar } from "yaml";
import { parse as parseToml, stringify as stringifyToml, TomlDate } from "smol-toml";

export type FrontMatterFormat = "yaml" | "toml";

export interface ParsedPost {
  format: FrontMatterFormat;
  /** The front matter's top-level keys in their order. */
  keys: string[];
  data: Record<string, unknown>;
  /** Each top-level key's value as written (one line at most), for style: `"2024-05-01"`, `[a, b]`. */
  raw: Record<string, string>;
  body: string;
}

const FENCES: Record<FrontMatterFormat, RegExp> = {
  yaml: /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/,
  toml: /^\uFEFF?\+\+\+[ \t]*\r?\n([\s\S]*?)\r?\n\+\+\+[ \t]*(?:\r?\n|$)/,
};

/** A post's front matter and body; null when it has none or it does not parse (such a file teaches nothing). */
export function parsePost(text: string): ParsedPost | null {
  for (const format of ["yaml", "toml"] as const) {
    const match = FENCES[format].exec(text);
    if (!match) continue;
    const head = match[1] ?? "";
    let data: unknown;
    try {
      data = format === "yaml" ? parseYaml(head) : toPlain(parseToml(head));
    } catch {
      return null;
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) return null;
    const raw: Record<string, string> = {};
    const assign = format === "yaml" ? /^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)$/ : /^([A-Za-z_][\w-]*)[ \t]*=[ \t]*(.*)$/;
    for (const line of head.split(/\r?\n/)) {
      const found = assign.exec(line);
      if (found && !((found[1] as string) in raw)) raw[found[1] as string] = (found[2] ?? "").trim();
    }
    return {
      format,
      keys: Object.keys(data),
      data: data as Record<string, unknown>,
      raw,
      body: text.slice(match[0].length),
    };
  }
  return null;
}

/** TOML dates as ISO strings (JSON-safe, comparable with YAML's strings); the rest as is. */
function toPlain(value: unknown): unknown {
  if (value instanceof TomlDate) return value.toISOString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toPlain);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toPlain(inner)]));
  return value;
}

/** How a blog writes a value: quoted or bare; a list inline (`[a, b]`) or one item a line. */
export interface ValueStyle {
  quoted?: boolean;
  flow?: boolean;
}

export interface FrontMatterField {
  key: string;
  value: unknown;
  style?: ValueStyle;
}

/** The front matter block, fences included, in `format`, keys in the order given. */
export function renderFrontMatter(format: FrontMatterFormat, fields: readonly FrontMatterField[]): string {
  return format === "toml" ? renderToml(fields) : renderYaml(fields);
}

function renderYaml(fields: readonly FrontMatterField[]): string {
  const doc = new Document({});
  const map = doc.contents;
  if (!isMap(map)) throw new Error("yaml: expected a map");
  for (const { key, value, style } of fields) {
    const node = doc.createNode(value);
    if (node instanceof Scalar && typeof value === "string" && style?.quoted) node.type = Scalar.QUOTE_DOUBLE;
    if (style?.flow && isSeq(node)) node.flow = true;
    map.add(doc.createPair(key, node));
  }
  return `---\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}---\n`;
}

/** A TOML date or date-time (bare in TOML) when it looks like one and the blog writes it bare. */
const TOML_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

function renderToml(fields: readonly FrontMatterField[]): string {
  const lines: string[] = [];
  const tables: Record<string, unknown> = {};
  for (const { key, value, style } of fields) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      // Tables must follow every plain key, or TOML would read those keys as the table's.
      tables[key] = value;
      continue;
    }
    if (typeof value === "string" && style?.quoted === false && TOML_DATE.test(value)) {
      // Written by hand: smol-toml adds milliseconds; the value is digits and separators only.
      lines.push(
        `${stringifyToml({ [key]: 0 })
          .split("=")[0]
          ?.trim()} = ${value}`,
      );
      continue;
    }
    lines.push(stringifyToml({ [key]: value }).trim());
  }
  const rest = Object.keys(tables).length ? `\n${stringifyToml(tables).trim()}\n` : "";
  return `+++\n${lines.join("\n")}\n${rest}+++\n`;
}
