/**
 * @module blog-autopilot/output — one article as Sundial output: the markdown file with its front
 * matter and its hero image, laid out as the blog does (see shape.ts), a slug that is safe and not
 * already used, and for the reviewer the links it makes and what was learned of the blog.
 */
import { slugify } from "sundial";
import type { ImageType, Output, Receipt, Video } from "sundial";
import { videoUrl, type Article } from "./article.ts";
import { renderFrontMatter } from "./front-matter.ts";
import type { BlogProfile } from "./learn.ts";
import { learnedSummary, resolveRelated, reuseTags } from "./learned-use.ts";
import { externalLinks, sanitizeArticleMarkdown } from "./sanitize.ts";
import { articlePaths, frontMatterFields, resolveShape, type Shape } from "./shape.ts";

/** Slugs tried in turn: an empty one means "try the next". */
const NO_FALLBACK = { fallback: "" };

/** Fields the skill sets itself; `frontMatter` params cannot replace them. */
export const OWN_FIELDS = ["title", "date", "description", "tags", "image", "source"] as const;

/**
 * The article's slug: the model's, else its title's, else the video id's; made unique against
 * `taken` (slugs of earlier articles of this job) with the video id, so two articles never share
 * a branch or a file.
 */
export function chooseSlug(
  article: Pick<Article, "slug" | "title">,
  videoId: string,
  taken: ReadonlySet<string>,
): string {
  const base = slugify(article.slug, NO_FALLBACK) || slugify(article.title, NO_FALLBACK) || `video-${slugify(videoId)}`;
  if (!taken.has(base)) return base;
  const suffix = slugify(videoId, { fallback: "video" });
  return `${slugify(base, { maxLength: 79 - suffix.length, fallback: "" })}-${suffix}`;
}

export type ImageExtension = ImageType["extension"];

export interface FrontMatterInput {
  article: Pick<Article, "title" | "description" | "tags">;
  /** ISO date (YYYY-MM-DD) or time. */
  date: string;
  source: string;
  /** Path of the hero image relative to the article, when there is one. */
  image?: string;
  extra?: Record<string, unknown>;
}

/**
 * The front matter block, fences included, in the blog's `shape` (default: YAML with title, date,
 * description, tags, image, source and `draft: true`, then the `extra` fields).
 */
export function frontMatter(input: FrontMatterInput, shape: Shape = resolveShape(null, "", {})): string {
  const own = {
    title: input.article.title,
    date: input.date,
    description: input.article.description,
    tags: [...input.article.tags],
    image: input.image ?? null,
    source: input.source,
  };
  return renderFrontMatter(shape.format, frontMatterFields(shape, own, input.extra ?? {}, OWN_FIELDS));
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
  /** The blog's shape (learned or given); the default shape without it. */
  shape?: Shape;
  /** What was learned of the blog, for the reviewer and to resolve links to existing posts. */
  blog?: { profile: BlogProfile | null; repo: string; dir: string; maxRelated: number };
  onDelivered?: (receipts: Receipt[]) => Promise<void> | void;
}

/**
 * For the pull request's reviewer: every link the article makes, as code (the real target, shown
 * whole and not clickable), so a planted link is seen before the merge.
 */
export function linksForReview(markdown: string): string {
  const links = externalLinks(markdown);
  if (!links.length) return "External links in this article: none.";
  return [
    `External links in this article (${links.length}; check each before merging):`,
    ...links.map((url) => `- \`${url.replace(/`/g, "%60")}\``),
  ].join("\n");
}

/** One output per article: the markdown file with front matter, and its image where the blog keeps them. */
export function articleOutput(input: ArticleOutputInput): Output {
  const { video, slug, image } = input;
  const shape = input.shape ?? resolveShape(null, "", {});
  const profile = input.blog?.profile ?? null;
  // Sanitized again here: a draft kept from an earlier version of the skill may predate sanitize.ts.
  const safe = sanitizeArticleMarkdown(input.article.markdown);
  const tags = reuseTags(input.article.tags, profile?.tags ?? []);
  const related = resolveRelated(safe, profile?.posts ?? [], shape.postUrl, input.blog?.maxRelated ?? 3);
  const article = { ...input.article, tags: tags.tags, markdown: related.markdown };
  const paths = articlePaths(shape, slug, input.scheduledFor, image ? image.extension : null);
  const head = frontMatter(
    {
      article,
      date: input.scheduledFor,
      source: videoUrl(video),
      ...(paths.imageRef ? { image: paths.imageRef } : {}),
      ...(input.frontMatter ? { extra: input.frontMatter } : {}),
    },
    shape,
  );
  const files: NonNullable<Output["files"]> = [{ path: paths.markdown, content: `${head}\n${article.markdown}` }];
  if (image && paths.image) files.push({ path: paths.image, content: image.bytes });
  const learned = input.blog ? learnedSummary(input.blog, shape, paths, tags.reused, related.linked) : null;
  return {
    key: video.id,
    slug,
    title: article.title,
    summary: [
      article.description,
      linksForReview(article.markdown),
      ...(learned ? [learned] : []),
      ...(input.note ? [`> ${input.note}`] : []),
    ].join("\n\n"),
    markdown: article.markdown,
    files,
    ...(input.onDelivered ? { onDelivered: input.onDelivered } : {}),
  };
}
