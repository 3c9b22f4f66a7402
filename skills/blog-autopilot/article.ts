/**
 * @module blog-autopilot/article — the article Claude writes (its schema), the prompts it is asked
 * with (templates in prompts/, filled here), and the tidying its answer gets before it is published.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { clip, createPromptFence, fillTemplate, NonRetryableError, oneLine, z } from "sundial";
import type { Video } from "sundial";
import type { BlogProfile } from "./learn.ts";
import { RELATED_PREFIX } from "./learned-use.ts";
import { sanitizeArticleMarkdown } from "./sanitize.ts";

export const articleSchema = z.object({
  title: z.string().min(1).describe("the article's title: specific and honest, at most about 70 characters"),
  slug: z.string().describe("URL slug: 3 to 6 lowercase English words joined by hyphens"),
  description: z
    .string()
    .min(1)
    .describe("one or two sentences for link previews and search results, at most about 160 characters"),
  tags: z.array(z.string()).describe("3 to 6 short topic tags"),
  markdown: z
    .string()
    .min(1)
    .describe(
      "the article body in Markdown: no title heading and no front matter; sections under ## headings; ends with a link to the source video",
    ),
});
export type Article = z.infer<typeof articleSchema>;

const PROMPTS_DIR = fileURLToPath(new URL("./prompts/", import.meta.url));

/** A prompt template beside the skill, read at run time so an edit applies to the next run. */
export function readPrompt(name: string, dir = PROMPTS_DIR): string {
  try {
    return readFileSync(`${dir}${name}`, "utf8");
  } catch (error) {
    throw new NonRetryableError(`blog-autopilot: cannot read prompts/${name} (${(error as Error).message})`);
  }
}

/**
 * A transcript within `maxChars`: its beginning (three quarters) and its end (where talks conclude),
 * cut at spaces, with a marker saying how much was left out.
 */
export function shortenTranscript(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const headSize = Math.floor(maxChars * 0.75);
  const tailSize = maxChars - headSize;
  const headCut = text.lastIndexOf(" ", headSize);
  const head = text.slice(0, headCut > headSize / 2 ? headCut : headSize);
  const tailCut = text.indexOf(" ", text.length - tailSize);
  const tail = text.slice(tailCut >= 0 && tailCut < text.length - tailSize / 2 ? tailCut + 1 : text.length - tailSize);
  const left = text.length - head.length - tail.length;
  return {
    text: `${head}\n\n[… ${left.toLocaleString("en-US")} characters of the transcript left out here …]\n\n${tail}`,
    truncated: true,
  };
}

/** The public watch URL of a video (the feed's link when it is one). */
export function videoUrl(video: Pick<Video, "id" | "url">): string {
  return /^https:\/\/(www\.|m\.)?(youtube\.com|youtu\.be)\//.test(video.url)
    ? video.url
    : `https://www.youtube.com/watch?v=${encodeURIComponent(video.id)}`;
}

export interface PromptInput {
  video: Video;
  transcript: string;
  voice: string;
  audience: string;
  maxTranscriptChars: number;
}

/**
 * The request for one article. The video's title, description and transcript are anyone's words:
 * each is fenced with a per-call token it cannot close ({{fence}} in the template names it).
 */
export function articlePrompt(
  input: PromptInput,
  template = readPrompt("article.md"),
  fence = createPromptFence(),
): string {
  const { text, truncated } = shortenTranscript(input.transcript, input.maxTranscriptChars);
  return fillTemplate(
    template,
    {
      fence: fence.token,
      title: fence.wrap("title", input.video.title.replace(/\s+/g, " ").trim()),
      url: videoUrl(input.video),
      published: input.video.publishedAt.slice(0, 10),
      description: fence.wrap("description", input.video.description?.trim() || "(none)"),
      voice: input.voice,
      audience: input.audience,
      truncated: truncated ? " (shortened: a middle part is left out, as marked)" : "",
      transcript: fence.wrap("transcript", text),
    },
    { name: "blog-autopilot: prompts/article.md" },
  );
}

export interface BlogContext {
  profile: BlogProfile;
  /** The fence token kept with the profile: the same while the blog is, so the system prompt stays cached. */
  fence: string;
  maxRelated: number;
}

const RELATED_RULE = (max: number) =>
  max === 0
    ? "Do not link to these posts."
    : `Where one of these posts truly relates to a point of the article (same subject, not just a shared tag), you may link it from the sentence where it helps the reader, as [words](${RELATED_PREFIX}<slug>) with the post's slug from the list. At most ${max} such links, each to a different post; none when nothing truly relates. Never link a slug that is not in the list.`;

/**
 * The standing instructions: `system.md`, then (when the blog was learned) what it looks like,
 * fenced as material. Depends only on the blog and the params, so one run's prompts share a cache.
 */
export function systemPrompt(
  blog: BlogContext | null,
  linkMoments: boolean,
  template = readPrompt("system.md"),
  blogTemplate = readPrompt("blog.md"),
): string {
  const timestamps = linkMoments ? `\n\n${TIMESTAMP_RULE}\n` : "";
  if (!blog) return linkMoments ? `${template.trimEnd()}${timestamps}` : template;
  const fence = createPromptFence(blog.fence);
  const { profile } = blog;
  const excerpts =
    profile.excerpts
      .map((excerpt, index) => fence.wrap(`excerpt ${index + 1}`, `${excerpt.title}\n\n${excerpt.text}`))
      .join("\n") || "(none)";
  const posts = profile.posts
    .slice(0, 60)
    .map(
      (post) =>
        `${post.slug}: ${oneLine(post.title).slice(0, 120)}${post.tags.length ? ` (${post.tags.slice(0, 6).join(", ")})` : ""}`,
    );
  const section = fillTemplate(
    blogTemplate,
    {
      fence: blog.fence,
      excerpts,
      tags: fence.wrap("tags", profile.tags.slice(0, 80).join(", ") || "(none)"),
      posts: fence.wrap("posts", posts.join("\n") || "(none)"),
      related: RELATED_RULE(blog.maxRelated),
    },
    { name: "blog.md" },
  );
  return `${template.trimEnd()}\n\n${section.trim()}\n${timestamps}`;
}

export const TIMESTAMP_RULE =
  "# Moments in the video\n\nThe transcript carries times as [t=SECONDS] markers. Where a section covers a moment the reader may want to watch, you may link it once near the section's start, as [watch this part](VIDEO_URL&t=SECONDSs) using the exact video URL you were given and a time taken from a marker. Never invent a time.";

export function imagePrompt(
  article: Pick<Article, "title" | "description">,
  template = readPrompt("image.md"),
): string {
  // Leonardo refuses very long prompts; the template's own text comes first and is kept whole.
  return fillTemplate(
    template,
    { title: article.title, description: article.description },
    { name: "blog-autopilot: prompts/image.md" },
  )
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 1400);
}

/** Tags as a blog wants them: lowercase, unique, at most eight. */
export function tidyTags(tags: readonly string[]): string[] {
  const unique = new Set(tags.map((tag) => oneLine(tag).replace(/^#+/, "").toLowerCase()).filter(Boolean));
  return [...unique].slice(0, 8);
}

/**
 * The body as the blog needs it: no front matter or title heading of its own (the blog renders the
 * title), other top-level headings made sections, a link to the source video at the end when the
 * model left it out, and no raw HTML or non-http(s) link (see sanitize.ts).
 */
export function tidyMarkdown(markdown: string, video: Video): string {
  let body = markdown.replace(/\r\n?/g, "\n").trim();
  body = body.replace(/^---\n[\s\S]*?\n---\n/, "").trimStart();
  body = body.replace(/^# [^\n]*\n+/, "");
  let fence: string | null = null;
  body = body
    .split("\n")
    .map((line) => {
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (marker && (fence === null || marker.startsWith(fence))) fence = fence === null ? marker : null;
      return fence === null && /^# /.test(line) ? `#${line}` : line;
    })
    .join("\n")
    .trim();
  const url = videoUrl(video);
  const linked = body.includes(url) || body.includes(`youtu.be/${video.id}`) || body.includes(`v=${video.id}`);
  if (!linked)
    body += `\n\n---\n\n*This article is based on the video [${video.title.replace(/[[\]]/g, "")}](${url}).*`;
  // Last, so the video's title in the closing line is sanitized too: the model writes from anyone's words.
  return `${sanitizeArticleMarkdown(body).trim()}\n`;
}

/** The article as published: one-line title and description, tidy tags and body. */
export function tidyArticle(article: Article, video: Video): Article {
  return {
    title: oneLine(article.title) || oneLine(video.title),
    slug: article.slug,
    description: clip(oneLine(article.description), 300),
    tags: tidyTags(article.tags),
    markdown: tidyMarkdown(article.markdown, video),
  };
}
