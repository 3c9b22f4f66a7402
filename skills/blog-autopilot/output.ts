/**
 * @module blog-autopilot/output — one article as Sundial output: the markdown file with its YAML
 * front matter, the hero image beside it, a slug that is safe and not already used.
 */
import { stringify } from "yaml";
import type { Output, Receipt, Video } from "sundial";
import { videoUrl, type Article } from "./article.ts";
import { externalLinks, sanitizeArticleMarkdown } from "./sanitize.ts";

/** Fields the skill sets itself; `frontMatter` params cannot replace them. */
export const OWN_FIELDS = ["title", "date", "description", "tags", "image", "source"] as const;

/**
 * A lowercase ASCII slug (letters, digits, single hyphens) of at most `maxLength` characters, cut
 * at a hyphen when one is near; accents folded (é → e), anything else a hyphen. Empty when nothing is left.
 */
export function sanitiseSlug(text: string, maxLength = 80): string {
  const slug = text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/ß/g, "ss")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (slug.length <= maxLength) return slug;
  const cut = slug.slice(0, maxLength);
  const hyphen = cut.lastIndexOf("-");
  return (hyphen >= maxLength / 2 ? cut.slice(0, hyphen) : cut).replace(/-+$/, "");
}

/**
 * The article's slug: the model's, else its title's, else the video id's; made unique against
 * `taken` (slugs of earlier articles of this job) with the video id, so two articles never share
 * a branch or a file.
 */
export function chooseSlug(article: Pick<Article, "slug" | "title">, videoId: string, taken: ReadonlySet<string>): string {
  const base = sanitiseSlug(article.slug) || sanitiseSlug(article.title) || `video-${sanitiseSlug(videoId) || "post"}`;
  if (!taken.has(base)) return base;
  const suffix = sanitiseSlug(videoId) || "video";
  return `${sanitiseSlug(base, 79 - suffix.length)}-${suffix}`;
}

export type ImageExtension = "png" | "jpg" | "webp" | "gif";

/** The file extension the image's bytes call for (Leonardo may answer JPEG where PNG was named); null when unknown. */
export function imageExtension(bytes: Uint8Array): ImageExtension | null {
  const starts = (...values: number[]) => values.every((value, index) => bytes[index] === value);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (starts(0xff, 0xd8, 0xff)) return "jpg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "gif";
  if (starts(0x52, 0x49, 0x46, 0x46) && [0x57, 0x45, 0x42, 0x50].every((value, index) => bytes[8 + index] === value)) return "webp";
  return null;
}

export interface FrontMatterInput {
  article: Pick<Article, "title" | "description" | "tags">;
  /** ISO date (YYYY-MM-DD). */
  date: string;
  source: string;
  /** Path of the hero image relative to the article, when there is one. */
  image?: string;
  extra?: Record<string, unknown>;
}

/** The YAML front matter block, `---` lines included; `draft: true` unless `extra` says otherwise. */
export function frontMatter(input: FrontMatterInput): string {
  const own: Record<string, unknown> = {
    title: input.article.title,
    date: input.date,
    description: input.article.description,
    tags: [...input.article.tags],
    ...(input.image ? { image: input.image } : {}),
    source: input.source,
  };
  const extra = Object.fromEntries(Object.entries(input.extra ?? {}).filter(([key]) => !(OWN_FIELDS as readonly string[]).includes(key)));
  return `---\n${stringify({ ...own, draft: true, ...extra }, { lineWidth: 0 })}---\n`;
}

export interface ArticleOutputInput {
  video: Video;
  /** Already tidied (see `tidyArticle`). */
  article: Article;
  slug: string;
  /** The run's scheduled time (ISO); its date is the article's date. */
  scheduledFor: string;
  image?: { bytes: Uint8Array; extension: ImageExtension } | null;
  frontMatter?: Record<string, unknown>;
  /** A line for the reviewer (why there is no image…), shown under the description. */
  note?: string;
  onDelivered?: (receipts: Receipt[]) => Promise<void> | void;
}

/** One output per article: `<slug>.md` with front matter, and `<slug>.<ext>` beside it when there is an image. */
/**
 * For the pull request's reviewer: every link the article makes, as code (the real target, shown
 * whole and not clickable), so a planted link is seen before the merge.
 */
export function linksForReview(markdown: string): string {
  const links = externalLinks(markdown);
  if (!links.length) return "External links in this article: none.";
  return [`External links in this article (${links.length}; check each before merging):`, ...links.map((url) => `- \`${url.replace(/`/g, "%60")}\``)].join("\n");
}

export function articleOutput(input: ArticleOutputInput): Output {
  const { video, slug, image } = input;
  // Sanitized again here: a draft kept from an earlier version of the skill may predate sanitize.ts.
  const article = { ...input.article, markdown: sanitizeArticleMarkdown(input.article.markdown) };
  const imageFile = image ? `${slug}.${image.extension}` : undefined;
  const head = frontMatter({
    article,
    date: input.scheduledFor.slice(0, 10),
    source: videoUrl(video),
    ...(imageFile ? { image: imageFile } : {}),
    ...(input.frontMatter ? { extra: input.frontMatter } : {}),
  });
  const files: NonNullable<Output["files"]> = [{ path: `${slug}.md`, content: `${head}\n${article.markdown}` }];
  if (image && imageFile) files.push({ path: imageFile, content: image.bytes });
  return {
    key: video.id,
    slug,
    title: article.title,
    summary: [article.description, linksForReview(article.markdown), ...(input.note ? [`> ${input.note}`] : [])].join("\n\n"),
    markdown: article.markdown,
    files,
    ...(input.onDelivered ? { onDelivered: input.onDelivered } : {}),
  };
}
