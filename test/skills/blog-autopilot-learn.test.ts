/**
 * blog-autopilot learns the blog it writes for: against emulated repositories of three real layouts
 * (Hugo TOML bundles, Jekyll dated posts, Astro content collection), read through the run's real
 * integrations (Octokit) and delivered through the real github-pr adapter, each pull request's
 * files follow that layout, their front matter parses in the blog's format with the blog's keys,
 * reused tags are the blog's, related links point at real posts, and the PR body says what was learned.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { parse as parseToml } from "smol-toml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import skill from "../../skills/blog-autopilot/index.ts";
import { PROFILE_KEY } from "../../skills/blog-autopilot/blog-repo.ts";
import { blogParams, type BlogParams } from "../../skills/blog-autopilot/params.ts";
import { RELATED_PREFIX } from "../../skills/blog-autopilot/learned-use.ts";
import { githubPrDelivery } from "../../src/deliver/github-pr.ts";
import { createIntegrations } from "../../src/integrations/index.ts";
import type { IntegrationRequest } from "../../src/run/runner.ts";
import type { DeliveryTarget, Output, Receipt, SkillContext, Video } from "../../src/types.ts";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.ts";
import { ONE_PIXEL_PNG } from "../emulators/leonardo.ts";
import { ASTRO, HUGO, JEKYLL, LAYOUTS, type BlogLayout } from "./blog-layouts.ts";
import { CHANNEL_A, segments } from "./blog-fixtures.ts";

const VIDEO: Video = {
  id: "vidLearn001",
  channelId: CHANNEL_A,
  title: "Backups for the homelab",
  url: "https://www.youtube.com/watch?v=vidLearn001",
  publishedAt: "2026-12-02T10:00:00.000Z",
};
const SCHEDULED = "2026-12-03T06:00:00.000Z";

let github: GitHubEmulator;
let dataDir: string;
beforeEach(async () => {
  github = await startGitHubEmulator();
  dataDir = mkdtempSync(join(tmpdir(), "sundial-learn-"));
});
afterEach(async () => {
  await github.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Seen {
  systems: string[];
  prompts: string[];
  delivered: Output[];
  state: Map<string, unknown>;
  requests: () => number;
}

/** What the model answers: a tag the blog has (other case), a new one, a link to a real post and one to an invented post. */
function answer(layout: BlogLayout) {
  const [first] = layout.slugs;
  return {
    title: "Backups I trust",
    slug: "backups-i-trust",
    description: "How I check that backups restore.",
    tags: [layout.tags[0]?.toUpperCase() ?? "x", "brand-new-topic"],
    markdown: `Intro.\n\n## Restores\n\nAs I wrote in [my earlier post](${RELATED_PREFIX}${first}), restores matter. Also [this one](${RELATED_PREFIX}no-such-post).\n\n*Based on [the video](${VIDEO.url}).*`,
  };
}

function contextFor(layout: BlogLayout, seen: Seen, params: Partial<BlogParams> = {}): SkillContext<BlogParams> {
  const env = { GITHUB_TOKEN: github.token, GITHUB_API_URL: github.url, SUNDIAL_GITHUB_THROTTLE: "off" };
  const target: Extract<DeliveryTarget, { to: "github-pr" }> = {
    to: "github-pr",
    repo: layout.repo,
    base: "main",
    dir: layout.dir,
    labels: [],
    draft: false,
  };
  const signal = new AbortController().signal;
  const log = pino({ level: "silent" });
  // The run's own integrations: the reader comes from the job's github-pr delivery.
  const integrations = createIntegrations({
    env,
    job: { deliver: [target, { to: "stdout" }] },
    signal,
    log,
    stateSnapshot: new Map(),
    dryRun: false,
  } as unknown as IntegrationRequest);
  const adapter = githubPrDelivery({ throttle: false });
  const steps = new Map<string, Promise<unknown>>();
  return {
    params: blogParams.parse({ channels: [CHANNEL_A], ...params }),
    log,
    signal,
    step<T>(id: string, fn: () => Promise<T> | T) {
      if (!steps.has(id)) steps.set(id, Promise.resolve().then(fn));
      return steps.get(id) as Promise<T>;
    },
    state: {
      get: <T>(key: string) => structuredClone(seen.state.get(key)) as T | undefined,
      set: async (key, value) => void seen.state.set(key, structuredClone(value)),
    },
    run: { id: 1, job: "blog", scheduledFor: SCHEDULED, attempt: 1, lastSuccessAt: null },
    parallel: (items, fn) => Promise.all(items.map((item, index) => fn(item, index))),
    claude: {
      text: async () => "unused",
      structured: async <T>(request: { system?: string; prompt: string }) => {
        seen.systems.push(request.system ?? "");
        seen.prompts.push(request.prompt);
        return answer(layout) as T;
      },
    },
    sources: {
      ...integrations.sources,
      youtube: { channelVideos: async () => [VIDEO], transcript: async (id) => segments(id, "full") },
    },
    images: {
      available: true,
      generate: async () => ({ bytes: ONE_PIXEL_PNG, mediaType: "image/png", extension: "png" }),
    },
    deliver: async (output) => {
      const receipt: Receipt = await adapter.deliver(output, target, {
        job: "blog",
        runId: 1,
        env,
        dataDir,
        signal,
        log,
        earlier: [],
      });
      seen.delivered.push(output);
      await output.onDelivered?.([receipt]);
      return [receipt];
    },
    dryRun: false,
  };
}

async function runOn(layout: BlogLayout, params: Partial<BlogParams> = {}) {
  const repo = github.addRepo(layout.repo, layout.files);
  const seen: Seen = {
    systems: [],
    prompts: [],
    delivered: [],
    state: new Map(),
    requests: () => github.requests.length,
  };
  await skill.run(contextFor(layout, seen, params));
  const pull = repo.pulls[0];
  expect(pull, "a pull request was opened").toBeDefined();
  const files = repo.files(pull?.head as string) as Map<string, Buffer>;
  const added = [...files.keys()].filter((path) => !(path in layout.files));
  return { repo, seen, pull: pull as NonNullable<typeof pull>, files, added };
}

function frontMatterOf(
  text: string,
  format: "yaml" | "toml",
): { keys: string[]; data: Record<string, unknown>; body: string } {
  const fence = format === "yaml" ? "---" : "+++";
  const match = new RegExp(`^\\${fence[0]}{3}\\n([\\s\\S]*?)\\n\\${fence[0]}{3}\\n([\\s\\S]*)$`).exec(text);
  if (!match) throw new Error(`no ${format} front matter in:\n${text}`);
  const data = (format === "yaml" ? parseYaml(match[1] as string) : parseToml(match[1] as string)) as Record<
    string,
    unknown
  >;
  return { keys: Object.keys(data), data, body: match[2] as string };
}

describe("blog-autopilot learns the blog's layout from its repository", () => {
  it("Hugo: TOML front matter with the posts' keys, a page bundle with the image inside, tags and related links from the blog", async () => {
    const { added, files, pull, seen } = await runOn(HUGO);
    expect(added.sort()).toEqual(["content/posts/backups-i-trust/cover.png", "content/posts/backups-i-trust/index.md"]);
    expect(files.get("content/posts/backups-i-trust/cover.png")).toEqual(Buffer.from(ONE_PIXEL_PNG));
    const text = files.get("content/posts/backups-i-trust/index.md")?.toString("utf8") as string;
    const { keys, data, body } = frontMatterOf(text, "toml");
    // The newest post's keys in its order; no key the blog does not use (no description, no source).
    expect(keys).toEqual(["title", "date", "draft", "tags", "cover", "author"]);
    expect(data.title).toBe("Backups I trust");
    // A TOML date-time (not a string), the run's time.
    expect(data.date).toBeInstanceOf(Date);
    expect((data.date as Date).getTime()).toBe(Date.parse(SCHEDULED));
    expect(text).toContain("date = 2026-12-03T06:00:00+00:00\n");
    expect(data).toMatchObject({
      draft: true,
      cover: "cover.png",
      author: "Ada",
      tags: ["backups", "brand-new-topic"],
    });
    expect(body).toContain("[my earlier post](/posts/restic-backups/)");
    expect(body).not.toContain(RELATED_PREFIX);
    expect(body).toContain("Also this one.");
    expect(pull.body).toContain("front matter: TOML");
    expect(pull.body).toContain("`slug/index.md` bundles with the image inside");
    expect(pull.body).toContain("1 existing tag reused (`backups`)");
    expect(pull.body).toContain("related posts linked: `restic-backups/index.md`");
    // The system prompt carries the blog: fenced excerpts of the newest posts, its tags and posts.
    const system = seen.systems[0] as string;
    const token = (seen.state.get(PROFILE_KEY) as { learned: { fence: string } }).learned.fence;
    expect(system).toContain(`<<<excerpt 1 ${token}>>>\nTailscale at home`);
    expect(system).toContain("I spent a weekend on tailscale");
    expect(system).toContain("homelab, backups");
    expect(system).toContain("restic-backups: Restic backups that restore (backups, homelab)");
  });

  it("Jekyll: _posts/YYYY-MM-DD-slug.md, layout: post and categories kept, Jekyll dates, flow tags, no image the blog would not show", async () => {
    const { added, files, pull } = await runOn(JEKYLL);
    expect(added).toEqual(["_posts/2026-12-03-backups-i-trust.md"]);
    const text = files.get("_posts/2026-12-03-backups-i-trust.md")?.toString("utf8") as string;
    const { keys, data, body } = frontMatterOf(text, "yaml");
    expect(keys).toEqual(["layout", "title", "date", "categories", "tags"]);
    expect(data).toMatchObject({
      layout: "post",
      title: "Backups I trust",
      date: "2026-12-03 06:00:00 +0000",
      categories: ["notes"],
      tags: ["postgres", "brand-new-topic"],
    });
    expect(text).toContain('title: "Backups I trust"\n');
    expect(text).toContain("tags: [postgres, brand-new-topic]\n");
    expect(body).toContain("[my earlier post](/2026/08/20/postgres-upgrades.html)");
    expect(pull.body).toContain("`YYYY-MM-DD-slug.md`");
  });

  it("Astro: the collection's keys (pubDate, heroImage, description), the image beside the post, and moments linked as its posts do", async () => {
    const { added, files, seen } = await runOn(ASTRO);
    expect(added.sort()).toEqual(["src/content/blog/backups-i-trust.md", "src/content/blog/backups-i-trust.png"]);
    const { keys, data, body } = frontMatterOf(
      files.get("src/content/blog/backups-i-trust.md")?.toString("utf8") as string,
      "yaml",
    );
    expect(keys).toEqual(["title", "description", "pubDate", "heroImage", "tags"]);
    expect(data).toEqual({
      title: "Backups I trust",
      description: "How I check that backups restore.",
      pubDate: "2026-12-03",
      heroImage: "./backups-i-trust.png",
      tags: ["nix", "brand-new-topic"],
    });
    expect(body).toContain("[my earlier post](/blog/first-steps-with-nix/)");
    // One of its posts links a moment of a video: the article may too, from a timed transcript.
    expect(seen.systems[0]).toContain("[t=SECONDS]");
    expect(seen.prompts[0]).toMatch(/\[t=30\] /);
  });

  it("params override what was learned, and the profile is read once until the base branch moves", async () => {
    const { added, files, seen, repo } = await runOn(JEKYLL, {
      layout: "hugo-bundle",
      dateInFilename: false,
      frontMatterFormat: "toml",
      postUrl: "https://notes.example.org/{slug}/",
      frontMatter: { layout: "article" },
    });
    expect(added).toEqual(["_posts/backups-i-trust/index.md"]);
    const { data, body } = frontMatterOf(
      files.get("_posts/backups-i-trust/index.md")?.toString("utf8") as string,
      "toml",
    );
    expect(data.layout).toBe("article");
    expect(body).toContain("(https://notes.example.org/postgres-upgrades/)");
    // A second run on the same head reuses the stored profile: one ref read, no tree or blob read.
    const before = github.requests.length;
    const again: Seen = { ...seen, delivered: [] };
    again.state.delete("seen");
    again.state.delete("drafts");
    repo.pulls.splice(0);
    await skill.run(contextFor(JEKYLL, again));
    const reads = github.requests
      .slice(before)
      .filter((request) => request.method === "GET" && /git\/(trees|blobs)/.test(request.path));
    expect(reads).toEqual([]);
    // The base branch moves: the profile is learned again.
    repo.push("main", {
      "_posts/2026-12-01-new-post.md":
        "---\nlayout: post\ntitle: New\ndate: 2026-12-01 08:00:00 +0100\ncategories: [notes]\ntags: [fresh]\n---\n\nText.\n",
    });
    const mark = github.requests.length;
    again.state.delete("seen");
    again.state.delete("drafts");
    await skill.run(contextFor(JEKYLL, again));
    expect(github.requests.slice(mark).some((request) => /git\/trees/.test(request.path))).toBe(true);
    // Learning lists the files straight from the head commit (GitHub reads its sha as its tree): no commit read first.
    const learning = github.requests.slice(mark);
    const listed = learning.findIndex((request) => /git\/trees\//.test(request.path));
    expect(learning.slice(0, listed).filter((request) => /git\/commits\//.test(request.path))).toEqual([]);
    expect(
      (again.state.get(PROFILE_KEY) as { learned: { profile: { tags: string[] } } }).learned.profile.tags,
    ).toContain("fresh");
  });

  it("an empty repository (or none) falls back to today's shape: YAML, slug.md, the image beside it", async () => {
    const empty: BlogLayout = { ...HUGO, repo: "empty/blog", files: { "README.md": "# Soon\n" }, slugs: ["none"] };
    const { added, files, pull } = await runOn(empty);
    expect(added.sort()).toEqual(["content/posts/backups-i-trust.md", "content/posts/backups-i-trust.png"]);
    const { keys } = frontMatterOf(files.get("content/posts/backups-i-trust.md")?.toString("utf8") as string, "yaml");
    expect(keys).toEqual(["title", "date", "description", "tags", "image", "source", "draft"]);
    expect(pull.body).toContain("no posts with front matter");
  });

  it("timestamps: a param turns links to moments on for a blog that has none, or off for one that has them", async () => {
    const on = await runOn(JEKYLL, { timestamps: true });
    expect(on.seen.systems[0]).toContain("[t=SECONDS]");
    expect(on.seen.prompts[0]).toMatch(/\[t=0\] [^]*\[t=30\] [^]*\[t=60\] /);
    await github.close();
    github = await startGitHubEmulator();
    const off = await runOn(ASTRO, { timestamps: false });
    expect(off.seen.systems[0]).not.toContain("[t=SECONDS]");
    expect(off.seen.prompts[0]).not.toMatch(/\[t=\d+\]/);
    // Without either, a blog whose posts link no moment gets no marks.
    await github.close();
    github = await startGitHubEmulator();
    const plain = await runOn(HUGO);
    expect(plain.seen.prompts[0]).not.toMatch(/\[t=\d+\]/);
  });

  it.each(LAYOUTS.map((layout) => [layout.name, layout] as const))(
    "%s: every reused tag is one the blog has",
    async (_name, layout) => {
      const { seen } = await runOn(layout);
      const output = seen.delivered[0] as Output;
      const markdownFile = output.files?.find((file) => /\.md$/.test(file.path));
      const text = markdownFile?.content as string;
      const format = text.startsWith("+++") ? "toml" : "yaml";
      const tags = frontMatterOf(text, format).data.tags as string[];
      expect(tags.filter((tag) => tag !== "brand-new-topic").every((tag) => layout.tags.includes(tag))).toBe(true);
      expect(tags).toContain(layout.tags[0]);
    },
  );
});
