/**
 * @module blog-autopilot/output — one article as Sundial output: the markdown file with its YAML
 * front matter, the hero image beside it, a slug that is safe and not already used.
 */
import { stringify } from "yaml";
import { slugify } from "sundial";
import type { ImageType, Output, Receipt, Video } from "sundial";
import { videoUrl, type Article } from "./article.ts";
import { externalLinks, sanitizeArticleMarkdown } from "./sanitize.ts";

/** Slugs tried in turn: an empty one means "try the next". */
const NO_FALLBACK = { fallback: "" };

/** Fields the skill sets itself; `frontMatter` params cannot replace them. */
export const OWN_FIELDS = ["title", "date", "description", "tags", "image", "source"] as const;

/**
 * The article's slug: the model's, else its title's, else the video id's; made unique against
 * `taken` (slugs of earlier articles of this job) with the video id, so two articles never share
 * a branch or a file.
 */
export function chooseSlug(article: Pick<Article, "slug" | "title">, videoId: string, taken: ReadonlySet<string>): string {
  const base = slugify(article.slug, NO_FALLBACK) || slugify(article.title, NO_FALLBACK) || `video-${slugify(videoId)}`;
  if (!taken.has(base)) return base;
  const suffix = slugify(videoId, { fallback: "video" });
  return `${slugify(base, { maxLength: 79 - suffix.length, fallback: "" })}-${suffix}`;
}

export type ImageExtension = ImageType["extension"];

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
