/**
 * @module blog-autopilot/learn — what a blog's repository teaches about how its posts are written:
 * the front matter's format, keys and value styles, the file layout and where images go, the tags
 * in use, two excerpts for style and the list of existing posts (for related links). Pure: the
 * files come from `blog-repo.ts`; the result is JSON, kept in the job's state.
 */
import { parsePost, type FrontMatterFormat, type ParsedPost, type ValueStyle } from "./front-matter.ts";

/** `flat`: `slug.md`; `bundle`: `slug/index.md` with its image inside. */
export type FileLayout = "flat" | "bundle";

/** How a date is written: `2024-05-01`, `2024-05-01T10:00:00Z` (or with an offset), `2024-05-01 10:00:00 +0000` (Jekyll). */
export type DateStyle = "date" | "iso" | "iso-offset" | "iso-local" | "jekyll";

export interface KnownPost {
  /** The post's path relative to the blog's folder. */
  path: string;
  slug: string;
  title: string;
  date?: string;
  tags: string[];
}

export interface BlogProfile {
  /** Posts the profile was learned from (paths relative to the repository's root), newest first. */
  learnedFrom: string[];
  format: FrontMatterFormat;
  layout: FileLayout;
  dateInFilename: boolean;
  extension: string;
  /** Our fields under the blog's names; null when the blog's posts do not use such a field. */
  keys: {
    date: string | null;
    description: string | null;
    tags: string | null;
    draft: string | null;
    image: string | null;
  };
  /** The blog's keys in the order its newest post writes them. */
  order: string[];
  styles: Record<string, ValueStyle>;
  dateStyle: DateStyle;
  /** How an image is referred to: `cover.png`, `./cover.png`, or an absolute `/images/…` path. */
  imageRef: "bare" | "dot" | "absolute" | null;
  /** The name of a bundle's image when the bundles share one (`cover`, `featured`), else null. */
  bundleImageName: string | null;
  /** Keys every learned post sets to the same value (`layout: post`, `author: …`): copied. */
  constants: Record<string, unknown>;
  /** Tags in use, most used first. */
  tags: string[];
  excerpts: { title: string; text: string }[];
  posts: KnownPost[];
  /** Whether the posts link moments of videos (`&t=123s`, `?t=…`). */
  linksTimestamps: boolean;
}

const POST_FILE = /\.(md|mdx|markdown)$/i;
const DATED = /^(\d{4}-\d{2}-\d{2})-(.+)$/;
const KEY_CANDIDATES = {
  date: ["date", "pubDate", "publishDate", "published", "pubdate", "created"],
  description: ["description", "summary", "excerpt", "subtitle"],
  tags: ["tags", "categories", "keywords", "topics"],
  draft: ["draft"],
  image: [
    "heroImage",
    "image",
    "cover",
    "featured_image",
    "featuredImage",
    "featureImage",
    "thumbnail",
    "banner",
    "hero",
  ],
} as const;
const EXCERPT_CHARS = 700;

/** A post file of the blog's folder: its path relative to the folder, slug, and whether it is a bundle. */
export function postFileOf(
  relative: string,
): { slug: string; bundle: boolean; dated: string | null; extension: string } | null {
  if (!POST_FILE.test(relative)) return null;
  const parts = relative.split("/");
  const name = parts.at(-1) as string;
  const extension = (/\.([^.]+)$/.exec(name)?.[1] ?? "md").toLowerCase();
  const stem = name.slice(0, -extension.length - 1);
  // Hugo's section pages and the like are not posts.
  if (stem.startsWith("_") || /^(readme|license|changelog)$/i.test(stem)) return null;
  const bundle = stem === "index" && parts.length >= 2;
  const base = bundle ? (parts.at(-2) as string) : stem;
  const dated = DATED.exec(base);
  return { slug: dated ? (dated[2] as string) : base, bundle, dated: dated ? (dated[1] as string) : null, extension };
}

export function dateStyleOf(raw: string): { style: DateStyle; quoted: boolean } {
  const quoted = /^["']/.test(raw);
  const text = raw.replace(/^["']|["']$/g, "");
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return { style: "date", quoted };
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? [+-]\d{4}$/.test(text)) return { style: "jekyll", quoted };
  if (/Z$/.test(text)) return { style: "iso", quoted };
  if (/[+-]\d{2}:\d{2}$/.test(text)) return { style: "iso-offset", quoted };
  return { style: "iso-local", quoted };
}

/** The run's time (ISO, UTC) written as the blog writes dates. */
export function formatDate(iso: string, style: DateStyle): string {
  const seconds = iso.slice(0, 19);
  switch (style) {
    case "date":
      return iso.slice(0, 10);
    case "jekyll":
      return `${seconds.replace("T", " ")} +0000`;
    case "iso":
      return `${seconds}Z`;
    case "iso-offset":
      return `${seconds}+00:00`;
    case "iso-local":
      return seconds;
  }
}

const most = <T extends string>(counts: Map<T, number>): T | undefined =>
  [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
function count<T extends string>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

const asList = (value: unknown): string[] =>
  (Array.isArray(value) ? value : typeof value === "string" ? value.split(/[,\s]+/) : [])
    .filter((tag): tag is string => typeof tag === "string" && tag.trim() !== "")
    .map((tag) => tag.trim());

function excerptOf(body: string): string {
  // Prose only: no headings, code, images, shortcodes or HTML, so the excerpt shows the voice.
  const prose = body
    .replace(/```[\s\S]*?```|~~~[\s\S]*?~~~/g, "")
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s+/g, " ").trim())
    .filter((paragraph) => paragraph.length > 40 && !/^(#|!\[|<|\{\{|\{%|import |export |\||>)/.test(paragraph));
  let text = "";
  for (const paragraph of prose) {
    if (text && text.length + paragraph.length > EXCERPT_CHARS) break;
    text = text ? `${text}\n\n${paragraph}` : paragraph;
  }
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS - 1).replace(/\s+\S*$/, "")}…` : text;
}

interface Read {
  /** Path relative to the repository's root. */
  path: string;
  text: string;
}

/**
 * The profile of a blog from its post files (`files`: every path under `dir`) and the text of the
 * newest of them (`posts`). Null when no post with front matter was found: the skill then writes
 * in its own default shape.
 */
export function learnBlog(dir: string, files: readonly string[], posts: readonly Read[]): BlogProfile | null {
  const prefix = dir.replace(/^\/+|\/+$/g, "");
  const relative = (path: string) => (prefix && path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : path);
  const parsed = posts
    .map((post) => ({ path: post.path, file: postFileOf(relative(post.path)), post: parsePost(post.text) }))
    .filter(
      (entry): entry is { path: string; file: NonNullable<ReturnType<typeof postFileOf>>; post: ParsedPost } =>
        entry.file !== null && entry.post !== null,
    );
  if (parsed.length === 0) return null;

  const keyOf = (candidates: readonly string[]) =>
    most(count(parsed.flatMap(({ post }) => candidates.filter((key) => key in post.data))));
  const keys = {
    date: keyOf(KEY_CANDIDATES.date) ?? null,
    description: keyOf(KEY_CANDIDATES.description) ?? null,
    // `tags` wins over `categories` when both are used: categories are usually few and broad.
    tags: KEY_CANDIDATES.tags.find((key) => parsed.some(({ post }) => key in post.data)) ?? null,
    draft: keyOf(KEY_CANDIDATES.draft) ?? null,
    image: keyOf(KEY_CANDIDATES.image) ?? null,
  };
  // Themes such as Hugo's PaperMod nest the image (`cover: { image: "x.png" }`): kept as `cover.image`.
  const imageOf = (post: ParsedPost): unknown => {
    const value = keys.image ? post.data[keys.image] : undefined;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>).image
      : value;
  };
  const nestedImage =
    keys.image !== null &&
    parsed.some(
      ({ post }) => typeof (post.data[keys.image as string] as { image?: unknown } | undefined)?.image === "string",
    );
  const dateOf = (post: ParsedPost, fileDate: string | null) => {
    const value = keys.date ? post.data[keys.date] : undefined;
    const ms =
      typeof value === "string" || value instanceof Date
        ? Date.parse(String(value instanceof Date ? value.toISOString() : value))
        : Number.NaN;
    return Number.isFinite(ms) ? new Date(ms).toISOString() : (fileDate ?? undefined);
  };
  const dated = parsed
    .map((entry) => ({ ...entry, date: dateOf(entry.post, entry.file.dated) }))
    .sort((a, b) => (b.date ?? "").localeCompare(a.date ?? "") || a.path.localeCompare(b.path));
  const newest = dated[0] as (typeof dated)[number];

  const postFiles = files.map((path) => postFileOf(relative(path))).filter((file) => file !== null);
  const layout: FileLayout = (most(count(postFiles.map((file) => (file.bundle ? "bundle" : "flat")))) ??
    "flat") as FileLayout;
  const dateInFilename = postFiles.filter((file) => file.dated).length * 2 > postFiles.length;
  // MDX reads `{` and `<` as code: an article is plain Markdown, which MDX collections accept as .md.
  const learnedExtension = most(count(postFiles.map((file) => file.extension))) ?? "md";
  const extension = learnedExtension === "mdx" ? "md" : learnedExtension;

  const styles: Record<string, ValueStyle> = {};
  for (const [key, raw] of Object.entries(newest.post.raw)) {
    styles[key] = { quoted: /^["']/.test(raw), flow: raw.startsWith("[") };
  }
  const dateRaw = keys.date ? newest.post.raw[keys.date] : undefined;
  const dateStyle = dateRaw ? dateStyleOf(dateRaw).style : "date";

  const imageValues = parsed
    .map(({ post }) => imageOf(post))
    .filter((value): value is string => typeof value === "string" && value !== "");
  const imageRef = imageValues.length
    ? (most(
        count(
          imageValues.map((value) =>
            value.startsWith("/") || /^https?:/.test(value) ? "absolute" : value.startsWith("./") ? "dot" : "bare",
          ),
        ),
      ) ?? null)
    : null;
  const bundleImages =
    layout === "bundle"
      ? files.filter((path) => /\.(png|jpe?g|webp|gif|avif)$/i.test(path) && relative(path).split("/").length === 2)
      : [];
  const stems = count(bundleImages.map((path) => (path.split("/").at(-1) as string).replace(/\.[^.]+$/, "")));
  const sharedStem = most(stems);
  const bundleImageName = sharedStem && (stems.get(sharedStem) ?? 0) >= 2 ? sharedStem : null;

  const constants: Record<string, unknown> = {};
  const own = new Set(["title", ...Object.values(keys).filter((key): key is string => key !== null)]);
  if (nestedImage) keys.image = `${keys.image}.image`;
  if (parsed.length >= 2) {
    for (const key of newest.post.keys) {
      if (own.has(key)) continue;
      const value = newest.post.data[key];
      if (value === null || (typeof value === "object" && !Array.isArray(value))) continue;
      const json = JSON.stringify(value);
      if (parsed.every(({ post }) => JSON.stringify(post.data[key]) === json)) constants[key] = value;
    }
  }

  const tagCounts = count(parsed.flatMap(({ post }) => (keys.tags ? asList(post.data[keys.tags]) : [])));
  const tags = [...tagCounts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([tag]) => tag);
  const titleOf = (post: ParsedPost, slug: string) =>
    typeof post.data.title === "string" && post.data.title.trim() ? post.data.title.trim() : slug;
  const excerpts = dated
    .slice(0, 2)
    .map(({ post, file }) => ({ title: titleOf(post, file.slug), text: excerptOf(post.body) }))
    .filter((excerpt) => excerpt.text);
  const knownPosts: KnownPost[] = dated.map(({ path, post, file, date }) => ({
    path: relative(path),
    slug: file.slug,
    title: titleOf(post, file.slug),
    ...(date ? { date } : {}),
    tags: keys.tags ? asList(post.data[keys.tags]) : [],
  }));

  return {
    learnedFrom: dated.map(({ path }) => path),
    format: newest.post.format,
    layout,
    dateInFilename,
    extension,
    keys,
    order: newest.post.keys,
    styles,
    dateStyle,
    imageRef,
    bundleImageName,
    constants,
    tags,
    excerpts,
    posts: knownPosts,
    linksTimestamps: parsed.some(({ post }) =>
      /youtu(?:\.be\/|be\.com\/watch\?[^)\s]*)[^)\s]*[?&]t=\d+/.test(post.body),
    ),
  };
}

/** Which post files to read: newest first by the date in their name, then by path; at most `max`. */
export function postsToRead(dir: string, files: readonly string[], max: number): string[] {
  const prefix = dir.replace(/^\/+|\/+$/g, "");
  const rel = (path: string) => (prefix && path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : path);
  return files
    .map((path) => ({ path, file: postFileOf(rel(path)) }))
    .filter((entry) => entry.file !== null)
    .sort((a, b) => (b.file?.dated ?? "").localeCompare(a.file?.dated ?? "") || b.path.localeCompare(a.path))
    .slice(0, max)
    .map(({ path }) => path);
}
