/**
 * @module parse-json — a JSON endpoint's body to `FeedItem`s: the items array found by `itemsPath`,
 * each field read by its mapped path; JSON Feed 1.1 and plain `[{id, title, url…}]` need no mapping.
 */
import { z } from "zod";
import type { FeedItem } from "../../types.ts";
import type { JsonSourceSpec } from "../sources/json.ts";
import {
  decodeEntities,
  DEFAULT_MAX_ITEMS,
  fallbackId,
  htmlToText,
  resolveUrl,
  toFeedItem,
  type FeedOrigin,
} from "./parse-xml.ts";

export type JsonFeedSpec = Pick<JsonSourceSpec, "itemsPath" | "fields">;
type FieldName = "id" | "title" | "url" | "summary" | "publishedAt";

/** Where each field is looked for when `fields` does not say; the first present one wins. */
const DEFAULT_FIELDS: Record<FieldName, readonly string[]> = {
  id: ["id", "guid"],
  title: ["title", "name"],
  url: ["url", "link", "external_url"],
  summary: ["summary", "content_text", "description", "content_html"],
  publishedAt: ["publishedAt", "date", "date_published", "published_at", "pubDate", "created_at"],
};

const jsonObject = z.record(z.string(), z.unknown());
const scalar = z.union([z.string(), z.number()]);

/** Parses the body; throws a message (without the source's name) that says what is wrong and where. */
export function parseJsonFeed(
  body: string,
  spec: JsonFeedSpec,
  origin: FeedOrigin,
  maxItems = DEFAULT_MAX_ITEMS,
): FeedItem[] {
  let root: unknown;
  try {
    root = JSON.parse(body);
  } catch (error) {
    throw new Error(`not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return findItems(root, spec.itemsPath)
    .slice(0, maxItems)
    .map((raw, index) => {
      const parsed = jsonObject.safeParse(raw);
      if (!parsed.success) throw new Error(`item ${index} is ${describe(raw)}, not an object`);
      return jsonItem(parsed.data, index, spec.fields ?? {}, origin);
    });
}

function findItems(root: unknown, itemsPath: string | undefined): unknown[] {
  if (itemsPath !== undefined) {
    const found = readPath(root, itemsPath);
    if (!Array.isArray(found)) throw new Error(`itemsPath "${itemsPath}" is not an array (found ${describe(found)})`);
    return found;
  }
  if (Array.isArray(root)) return root;
  const items = readPath(root, "items");
  if (Array.isArray(items)) return items;
  throw new Error(
    `the body is ${describe(root)}, neither an array nor an object with an "items" array; set itemsPath to the array's dot path`,
  );
}

function jsonItem(
  raw: Record<string, unknown>,
  index: number,
  fields: Partial<Record<FieldName, string>>,
  origin: FeedOrigin,
): FeedItem {
  const read = (name: FieldName): string | number | undefined => {
    const paths = fields[name] !== undefined ? [fields[name]] : DEFAULT_FIELDS[name];
    for (const path of paths) {
      const value = readPath(raw, path);
      if (value === undefined || value === null) continue;
      const parsed = scalar.safeParse(value);
      if (!parsed.success) {
        throw new Error(
          `item ${index}: "${path}" is ${describe(value)}, not a string or number; point fields.${name} at the text inside it`,
        );
      }
      return parsed.data;
    }
    return undefined;
  };
  const title = decodeEntities(String(read("title") ?? ""));
  const link = read("url");
  const date = read("publishedAt");
  const summary = htmlToText(String(read("summary") ?? ""));
  const url = link === undefined ? undefined : resolveUrl(String(link), origin.url);
  const id =
    read("id") ?? url ?? link ?? fallbackId(title, date === undefined ? undefined : String(date), JSON.stringify(raw));
  return toFeedItem({ id: String(id), title, url, summary, date, source: origin.source });
}

/** Reads "a.b.0.c"; a key that itself contains dots ("dc.date") is matched whole first. */
function readPath(value: unknown, path: string): unknown {
  if (path === "") return value;
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, path)) return record[path];
  const dot = path.indexOf(".");
  if (dot < 0) return undefined;
  const head = path.slice(0, dot);
  return Object.hasOwn(record, head) ? readPath(record[head], path.slice(dot + 1)) : undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object with keys ${Object.keys(value).slice(0, 5).join(", ") || "(none)"}`;
  return `a ${typeof value}`;
}
