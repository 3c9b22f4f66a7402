/**
 * Front matter as blogs write it: YAML and TOML read with each key's raw text (for styles), written
 * back so that hostile values (quotes, newlines, a closing fence) stay values; date styles learned
 * and reproduced; post files recognised by layout.
 */
import { describe, expect, it } from "vitest";
import { parsePost, renderFrontMatter } from "../../skills/blog-autopilot/front-matter.ts";
import { dateStyleOf, formatDate, learnBlog, postFileOf } from "../../skills/blog-autopilot/learn.ts";
import { frontMatterFields, resolveShape } from "../../skills/blog-autopilot/shape.ts";

const hostile = 'Yes: "no"\n+++\n---\nlayout = "evil"';

describe("front matter", () => {
  it.each(["yaml", "toml"] as const)(
    "%s: a hostile title and tags stay values and the block parses back to them",
    (format) => {
      const block = renderFrontMatter(format, [
        { key: "title", value: hostile },
        { key: "date", value: "2026-12-03", style: { quoted: false } },
        { key: "tags", value: ["c#", "a, b", "null"], style: { flow: true } },
        { key: "draft", value: true },
      ]);
      const parsed = parsePost(`${block}\nBody.\n`);
      expect(parsed?.format).toBe(format);
      expect(parsed?.keys).toEqual(["title", "date", "tags", "draft"]);
      expect(parsed?.data.title).toBe(hostile);
      expect(parsed?.data.tags).toEqual(["c#", "a, b", "null"]);
      expect(parsed?.data.draft).toBe(true);
      expect(parsed?.body.trim()).toBe("Body.");
    },
  );

  it("reads each key's raw text, and none from a file without front matter or with a broken one", () => {
    expect(parsePost('---\npubDate: "2026-01-02"\ntags: [a, b]\n---\n')?.raw).toEqual({
      pubDate: '"2026-01-02"',
      tags: "[a, b]",
    });
    expect(parsePost("# Just markdown\n")).toBeNull();
    expect(parsePost('+++\ntitle = "unterminated\n+++\n')).toBeNull();
  });

  it("learns date styles and writes the run's time in them", () => {
    const at = "2026-12-03T06:07:08.000Z";
    const cases: [string, string][] = [
      ["2024-05-01", "2026-12-03"],
      ['"2024-05-01"', "2026-12-03"],
      ["2024-05-01 10:00:00 +0200", "2026-12-03 06:07:08 +0000"],
      ["2024-05-01T10:00:00Z", "2026-12-03T06:07:08Z"],
      ["2024-05-01T10:00:00+02:00", "2026-12-03T06:07:08+00:00"],
      ["2024-05-01T10:00:00", "2026-12-03T06:07:08"],
    ];
    for (const [raw, expected] of cases) expect(formatDate(at, dateStyleOf(raw).style)).toBe(expected);
    expect(dateStyleOf('"2024-05-01"').quoted).toBe(true);
  });

  it("recognises post files by layout and leaves section pages out", () => {
    expect(postFileOf("2026-01-02-hello-world.md")).toMatchObject({
      slug: "hello-world",
      bundle: false,
      dated: "2026-01-02",
    });
    expect(postFileOf("hello/index.md")).toMatchObject({ slug: "hello", bundle: true, dated: null });
    expect(postFileOf("hello.mdx")).toMatchObject({ slug: "hello", extension: "mdx" });
    expect(postFileOf("_index.md")).toBeNull();
    expect(postFileOf("cover.png")).toBeNull();
  });

  it("writes plain .md into an MDX collection, whose parser would read the article's braces as code", () => {
    const post = (slug: string) => ({
      path: `src/content/blog/${slug}.mdx`,
      text: `---\ntitle: ${slug}\npubDate: 2026-01-0${slug.length % 9}\n---\n\nText.\n`,
    });
    const posts = [post("one"), post("three")];
    expect(
      learnBlog(
        "src/content/blog",
        posts.map((p) => p.path),
        posts,
      )?.extension,
    ).toBe("md");
  });

  it("keeps a nested image (Hugo PaperMod's cover.image) nested, in YAML and TOML", () => {
    const yamlPost = (slug: string, day: number) => ({
      path: `content/posts/${slug}/index.md`,
      text: `---\ntitle: ${slug}\ndate: 2026-01-0${day}\ncover:\n  image: cover.jpg\n  alt: A picture\ntags: [a]\n---\n\nText.\n`,
    });
    const posts = [yamlPost("one", 1), yamlPost("two", 2)];
    const profile = learnBlog(
      "content/posts",
      posts.map((p) => p.path),
      posts,
    );
    expect(profile?.keys.image).toBe("cover.image");
    const shape = resolveShape(profile, "content/posts", {});
    const own = {
      title: "New",
      date: "2026-12-03T06:00:00.000Z",
      description: "d",
      tags: ["a"],
      image: "cover.png",
      source: "s",
    };
    for (const format of ["yaml", "toml"] as const) {
      const parsed = parsePost(
        `${renderFrontMatter(format, frontMatterFields({ ...shape, format }, own, {}, []))}\nBody\n`,
      );
      expect(parsed?.data.cover).toEqual({ image: "cover.png" });
      expect(parsed?.data).not.toHaveProperty("image");
    }
  });

  it("learns nothing (the default shape) from a folder without posts with front matter", () => {
    expect(
      learnBlog("content/posts", ["content/posts/a.md"], [{ path: "content/posts/a.md", text: "# No front matter\n" }]),
    ).toBeNull();
  });
});
