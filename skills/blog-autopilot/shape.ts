/**
 * @module blog-autopilot/shape — the shape an article takes in the blog: what was learned from its
 * repository (see learn.ts), with the job's explicit params on top, or the skill's own default
 * shape (YAML, `slug.md`, the image beside it) when nothing was learned. Also the file paths, the
 * front matter fields and the URLs of existing posts that shape calls for.
 */
import type { DateStyle, FileLayout, KnownPost, BlogProfile } from "./learn.ts";
import { formatDate } from "./learn.ts";
import type { FrontMatterField, FrontMatterFormat, ValueStyle } from "./front-matter.ts";
import type { BlogParams } from "./params.ts";

export interface Shape {
  /** False for the default shape (an empty repository, no github-pr delivery, learning off). */
  learned: boolean;
  format: FrontMatterFormat;
  layout: FileLayout;
  dateInFilename: boolean;
  extension: string;
  keys: BlogProfile["keys"];
  order: string[];
  styles: Record<string, ValueStyle>;
  dateStyle: DateStyle;
  imageRef: BlogProfile["imageRef"];
  bundleImageName: string | null;
  constants: Record<string, unknown>;
  /** The default shape names the source video in a `source` field; a learned one writes only the blog's keys. */
  sourceKey: string | null;
  /** For links to existing posts. */
  postUrl: string;
}

type Overrides = Pick<BlogParams, "layout" | "dateInFilename" | "frontMatterFormat" | "postUrl">;

const DEFAULT_KEYS: BlogProfile["keys"] = {
  date: "date",
  description: "description",
  tags: "tags",
  draft: "draft",
  image: "image",
};

/** A guess at the blog's post URLs from the generator its folder suggests; `postUrl` says it exactly. */
export function guessPostUrl(dir: string, layout: FileLayout, dateInFilename: boolean): string {
  const clean = dir.replace(/^\/+|\/+$/g, "");
  const hugo = /^content\/(.+)$/.exec(clean);
  if (hugo) return `/${hugo[1]}/{slug}/`;
  const astro = /^src\/(?:content|pages)\/(.+)$/.exec(clean);
  if (astro) return `/${astro[1]}/{slug}/`;
  if (clean === "_posts" || clean.endsWith("/_posts") || (dateInFilename && layout === "flat"))
    return "/{year}/{month}/{day}/{slug}.html";
  return "/{slug}/";
}

export function resolveShape(profile: BlogProfile | null, dir: string, params: Overrides): Shape {
  const base: Omit<Shape, "postUrl"> = profile
    ? {
        learned: true,
        format: profile.format,
        layout: profile.layout,
        dateInFilename: profile.dateInFilename,
        extension: profile.extension,
        keys: profile.keys,
        order: profile.order,
        styles: profile.styles,
        dateStyle: profile.dateStyle,
        imageRef: profile.imageRef,
        bundleImageName: profile.bundleImageName,
        constants: profile.constants,
        sourceKey: null,
      }
    : {
        learned: false,
        format: "yaml",
        layout: "flat",
        dateInFilename: false,
        extension: "md",
        keys: DEFAULT_KEYS,
        order: ["title", "date", "description", "tags", "image", "source", "draft"],
        styles: {},
        dateStyle: "date",
        imageRef: "bare",
        bundleImageName: null,
        constants: {},
        sourceKey: "source",
      };
  const shape = { ...base };
  if (params.layout === "hugo-bundle") shape.layout = "bundle";
  if (params.layout === "jekyll") Object.assign(shape, { layout: "flat", dateInFilename: true });
  if (params.layout === "flat") Object.assign(shape, { layout: "flat", dateInFilename: false });
  if (params.dateInFilename !== undefined) shape.dateInFilename = params.dateInFilename;
  if (params.frontMatterFormat) shape.format = params.frontMatterFormat;
  return { ...shape, postUrl: params.postUrl ?? guessPostUrl(dir, shape.layout, shape.dateInFilename) };
}

export interface ArticlePaths {
  /** Relative to the delivery's `dir`. */
  markdown: string;
  image: string | null;
  /** The image as the front matter refers to it. */
  imageRef: string | null;
}

/** Where the article and its image go, and how the front matter names the image. */
export function articlePaths(shape: Shape, slug: string, date: string, imageExtension: string | null): ArticlePaths {
  const name = shape.dateInFilename ? `${date.slice(0, 10)}-${slug}` : slug;
  if (shape.layout === "bundle") {
    const image = imageExtension ? `${shape.bundleImageName ?? "cover"}.${imageExtension}` : null;
    return {
      markdown: `${name}/index.${shape.extension}`,
      image: image ? `${name}/${image}` : null,
      imageRef: image ? (shape.imageRef === "dot" ? `./${image}` : image) : null,
    };
  }
  const image = imageExtension ? `${name}.${imageExtension}` : null;
  // An absolute image path points outside the posts' folder, where a pull request of this job
  // cannot write: the image stays beside the article, referred to relatively (said in the PR).
  return {
    markdown: `${name}.${shape.extension}`,
    image,
    imageRef: image ? (shape.imageRef === "dot" || shape.imageRef === "absolute" ? `./${image}` : image) : null,
  };
}

export interface OwnValues {
  title: string;
  /** ISO time of the run. */
  date: string;
  description: string;
  tags: string[];
  image: string | null;
  source: string;
}

/**
 * The front matter fields in the blog's order: our values under the blog's keys, its constant
 * keys, then the job's `frontMatter` params (which replace learned constants and `draft`, never
 * our other values).
 */
export function frontMatterFields(
  shape: Shape,
  own: OwnValues,
  extra: Record<string, unknown>,
  protectedKeys: readonly string[],
): FrontMatterField[] {
  const { keys } = shape;
  const values = new Map<string, unknown>();
  values.set("title", own.title);
  if (keys.date) values.set(keys.date, formatDate(own.date, shape.dateStyle));
  if (keys.description) values.set(keys.description, own.description);
  if (keys.tags) values.set(keys.tags, [...own.tags]);
  if (own.image) {
    // `cover.image`: the image inside the blog's own table.
    const [outer = "image", inner] = (keys.image ?? "image").split(".");
    values.set(outer, inner ? { [inner]: own.image } : own.image);
  }
  if (shape.sourceKey) values.set(shape.sourceKey, own.source);
  if (keys.draft) values.set(keys.draft, true);
  const ours = new Set(values.keys());
  for (const [key, value] of Object.entries(shape.constants)) if (!ours.has(key)) values.set(key, value);
  // `draft` is ours to set but the job's to change (`"draft": false` publishes on merge).
  const guarded = new Set([...[...ours].filter((key) => key !== keys.draft), ...protectedKeys]);
  for (const [key, value] of Object.entries(extra)) if (!guarded.has(key)) values.set(key, value);
  const rank = (key: string) => {
    const index = shape.order.indexOf(key);
    return index === -1 ? shape.order.length : index;
  };
  const ordered = [...values.keys()]
    .map((key, index) => ({ key, index }))
    .sort((a, b) => rank(a.key) - rank(b.key) || a.index - b.index);
  return ordered.map(({ key }) => {
    const style = key === keys.date ? { quoted: shape.styles[key]?.quoted ?? false } : shape.styles[key];
    return { key, value: values.get(key), ...(style ? { style } : {}) };
  });
}

/** The URL of an existing post, from `postUrl` (`{slug}`, `{year}`, `{month}`, `{day}`). */
export function postUrlOf(template: string, post: Pick<KnownPost, "slug" | "date">): string {
  const date = post.date ?? "";
  return template
    .replaceAll("{slug}", encodeURIComponent(post.slug))
    .replaceAll("{year}", date.slice(0, 4))
    .replaceAll("{month}", date.slice(5, 7))
    .replaceAll("{day}", date.slice(8, 10));
}
