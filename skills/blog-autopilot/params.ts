/** @module blog-autopilot/params — the params a blog-autopilot job writes in schedules.json, validated with defaults. */
import { z } from "sundial";

/** A channel id is "UC" and 22 more characters; a handle (@name) or a channel URL is not one. */
const channelId = z
  .string()
  .trim()
  .regex(/^UC[\w-]{22}$/, {
    message:
      "expected a YouTube channel id (UC followed by 22 characters); on the channel page use Share → Copy channel ID, not the @handle",
  });

export const blogParams = z.object({
  channels: z
    .array(channelId)
    .min(1, { message: "give at least one YouTube channel id" })
    .describe("YouTube channel ids whose new videos become articles"),
  maxVideos: z.int().min(1).max(50).default(3).describe("at most this many new videos per run, newest first"),
  lang: z
    .string()
    .trim()
    .min(2)
    .default("en")
    .describe("transcript language (a YouTube caption language code such as en or de)"),
  minTranscriptChars: z
    .int()
    .min(0)
    .default(1500)
    .describe("videos whose transcript is shorter than this are skipped, once"),
  maxTranscriptChars: z
    .int()
    .min(2000)
    .default(120_000)
    .describe("longer transcripts are shortened (beginning and end kept) before they go to Claude, to bound the cost"),
  voice: z
    .string()
    .trim()
    .default("first person, plain and warm, concrete examples over abstractions, no hype")
    .describe("a short description of the author's voice, written into every article prompt"),
  audience: z.string().trim().default("curious readers of the author's blog").describe("who the articles are for"),
  heroImage: z
    .boolean()
    .default(true)
    .describe("generate a hero image per article with Leonardo.ai (needs LEONARDO_API_KEY)"),
  frontMatter: z
    .record(z.string(), z.unknown())
    .default({})
    .describe(
      "extra front-matter fields the blog expects (author, layout, categories…); they cannot replace title, date, description, tags, image or source",
    ),
  learnFromRepo: z
    .boolean()
    .default(true)
    .describe(
      "learn the blog's front matter, file layout, tags and style from the repository of the job's github-pr delivery",
    ),
  layout: z
    .enum(["hugo-bundle", "jekyll", "flat"])
    .optional()
    .describe(
      "overrides the learned layout: hugo-bundle (slug/index.md, image inside), jekyll (_posts style YYYY-MM-DD-slug.md), flat (slug.md)",
    ),
  dateInFilename: z
    .boolean()
    .optional()
    .describe("overrides whether file (or bundle folder) names start with the date, YYYY-MM-DD-"),
  frontMatterFormat: z
    .enum(["yaml", "toml"])
    .optional()
    .describe("overrides the learned front matter format: yaml (---) or toml (+++)"),
  postUrl: z
    .string()
    .regex(/^(\/|https?:\/\/)[^\s()<>"'`]*\{slug\}[^\s()<>"'`]*$/, {
      message: 'must start with / or https:// and contain {slug}, like "/blog/{slug}/"',
    })
    .optional()
    .describe(
      "how the blog's post URLs look, for links to related posts: {slug}, {year}, {month}, {day}; learned from the layout when absent",
    ),
  relatedPosts: z
    .int()
    .min(0)
    .max(3)
    .default(3)
    .describe("at most this many existing posts linked from an article, only where they truly relate"),
  timestamps: z
    .boolean()
    .optional()
    .describe(
      "let sections link to the moment in the video (&t=123s); by default only when the blog's posts already do",
    ),
  concurrency: z.int().min(1).max(16).default(4).describe("videos worked on at once"),
  maxTokens: z
    .int()
    .min(1024)
    .max(64_000)
    .default(16_000)
    .describe("max_tokens for each article (thinking counts toward it)"),
});

export type BlogParams = z.output<typeof blogParams>;
