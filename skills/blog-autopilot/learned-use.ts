/**
 * @module blog-autopilot/learned-use — what an article takes from the learned blog: its tags spelled
 * as the blog spells them, links to related existing posts (the model names a post by slug, we
 * write the URL), and the lines that tell the reviewer what was learned.
 */
import type { BlogProfile, KnownPost } from "./learn.ts";
import type { ArticlePaths, Shape } from "./shape.ts";
import { postUrlOf } from "./shape.ts";

/**
 * Where the model links an existing post: a URL we own and resolve after sanitizing (a `.invalid`
 * host never resolves, so a link left unresolved goes nowhere).
 */
export const RELATED_PREFIX = "https://related.invalid/";

const normal = (tag: string) => tag.toLowerCase().replace(/[\s_-]+/g, "-");

/** The article's tags, each in the blog's spelling when the blog already has it; how many were reused. */
export function reuseTags(
  tags: readonly string[],
  vocabulary: readonly string[],
): { tags: string[]; reused: string[] } {
  const known = new Map<string, string>();
  for (const tag of vocabulary) if (!known.has(normal(tag))) known.set(normal(tag), tag);
  const out: string[] = [];
  const reused: string[] = [];
  for (const tag of tags) {
    const blogs = known.get(normal(tag));
    const value = blogs ?? tag;
    if (out.includes(value)) continue;
    out.push(value);
    if (blogs) reused.push(blogs);
  }
  return { tags: out, reused };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const LINK = new RegExp(`\\[([^\\]\\n]*)\\]\\(<?${escapeRegExp(RELATED_PREFIX)}([^)>\\s]*)>?\\)`, "g");

/**
 * The article with each link to an existing post (by slug) pointing at its URL: only posts the
 * blog has, at most `max` distinct ones; any other such link keeps its text and loses its link.
 */
export function resolveRelated(
  markdown: string,
  posts: readonly KnownPost[],
  template: string,
  max: number,
): { markdown: string; linked: KnownPost[] } {
  const bySlug = new Map(posts.map((post) => [post.slug, post]));
  const linked: KnownPost[] = [];
  const text = markdown.replace(LINK, (_whole, label: string, slug: string) => {
    const post = bySlug.get(decodeURIComponent(slug).replace(/\/+$/, ""));
    if (!post) return label;
    if (!linked.includes(post)) {
      if (linked.length >= max) return label;
      linked.push(post);
    }
    return `[${label}](${postUrlOf(template, post)})`;
  });
  return { markdown: text, linked };
}

/** Text from the repository as inline code that cannot close early. */
const code = (text: string) => `\`${text.replace(/[`\r\n]/g, "'")}\``;

const layoutName = (shape: Shape) => {
  const name = shape.dateInFilename ? "YYYY-MM-DD-slug" : "slug";
  return shape.layout === "bundle"
    ? `${code(`${name}/index.${shape.extension}`)} bundles with the image inside`
    : code(`${name}.${shape.extension}`);
};

/** For the pull request: what was learned of the blog, and what this article took from it. */
export function learnedSummary(
  blog: { profile: BlogProfile | null; repo: string; dir: string },
  shape: Shape,
  paths: ArticlePaths,
  reused: readonly string[],
  linked: readonly KnownPost[],
): string {
  const { profile } = blog;
  if (!profile)
    return `Learned from ${blog.repo}: no posts with front matter in \`${blog.dir}\`, so this article has the default shape (YAML front matter, \`slug.md\`).`;
  const inDir = (path: string) => `${blog.dir.replace(/\/+$/, "")}/${path}`;
  const keys = shape.order.length
    ? shape.order
    : Object.values(profile.keys).filter((key): key is string => Boolean(key));
  const lines = [
    `Learned from ${blog.repo} (${profile.learnedFrom.length} post${profile.learnedFrom.length === 1 ? "" : "s"} in \`${blog.dir}\`, newest ${code(profile.learnedFrom[0] ?? "")}):`,
    `- front matter: ${shape.format.toUpperCase()}, keys ${keys.map(code).join(", ")}; dates like \`${formatExample(shape)}\``,
    `- layout: ${layoutName(shape)} → ${code(inDir(paths.markdown))}${paths.image ? ` and ${code(inDir(paths.image))}` : ""}`,
    `- tags: ${reused.length} existing tag${reused.length === 1 ? "" : "s"} reused${reused.length ? ` (${reused.map(code).join(", ")})` : ""}`,
    `- related posts linked: ${linked.length ? linked.map((post) => code(post.path)).join(", ") : "none"}`,
  ];
  if (profile.imageRef === "absolute" && paths.image)
    lines.push(
      "- the blog's images live outside its posts' folder, where this pull request cannot write: the image is beside the article; move it if your build needs that",
    );
  return lines.join("\n");
}

function formatExample(shape: Shape): string {
  switch (shape.dateStyle) {
    case "date":
      return "2026-12-03";
    case "jekyll":
      return "2026-12-03 06:00:00 +0000";
    case "iso":
      return "2026-12-03T06:00:00Z";
    case "iso-offset":
      return "2026-12-03T06:00:00+00:00";
    case "iso-local":
      return "2026-12-03T06:00:00";
  }
}
