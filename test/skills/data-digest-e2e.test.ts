/**
 * The shipped data-digest skill end to end, as real processes (the daemon on an every-second
 * schedule, and `sundial run`), against the feed, Anthropic and Discord emulators.
 */
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startAnthropicEmulator, type AnthropicEmulator, type MessagesBody } from "../emulators/anthropic.ts";
import { CHANNEL_ID, startDiscordEmulator, type DiscordEmulator, type EmulatedMessage } from "../emulators/discord.ts";
import { startFeedEmulator, type FeedEmulator } from "../emulators/feeds.ts";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.ts";
import { createWorkspace, repoRoot, waitFor, type LedgerRun, type Workspace } from "../helpers/workspace.ts";

interface Entry {
  id: string;
  title: string;
  minutesAgo: number;
  summary?: string;
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function rss(base: string, entries: Entry[]): string {
  const items = entries.map(
    (e) =>
      `<item><title>${xml(e.title)}</title><link>${base}/${e.id}</link><guid>${base}/${e.id}</guid><pubDate>${new Date(Date.now() - e.minutesAgo * 60_000).toUTCString()}</pubDate><description>${xml(e.summary ?? `About ${e.title}`)}</description></item>`,
  );
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title><link>${base}</link>${items.join("")}</channel></rss>`;
}

function atom(base: string, entries: Entry[]): string {
  const items = entries.map(
    (e) =>
      `<entry><id>${base}/${e.id}</id><title>${xml(e.title)}</title><link href="${base}/${e.id}"/><updated>${new Date(Date.now() - e.minutesAgo * 60_000).toISOString()}</updated><summary>${xml(e.summary ?? `About ${e.title}`)}</summary></entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Feed</title><id>${base}</id><updated>${new Date().toISOString()}</updated>${items.join("")}</feed>`;
}

/** The model's side: every listed item id in one theme, with a line each (it never sees how links are made). */
function digestAnswer(body: MessagesBody) {
  const prompt = String(body.messages?.[0]?.content ?? "");
  const ids = [...prompt.matchAll(/^\[(i\d+)\] /gm)].map((m) => m[1] as string);
  const half = Math.ceil(ids.length / 2);
  const groups = [
    {
      theme: "First things",
      items: ids
        .slice(0, half)
        .map((id) => ({ id, why: `Why ${id} matters to someone building schedulers in production this month.` })),
    },
    {
      theme: "Second things",
      items: ids
        .slice(half)
        .map((id) => ({ id, why: `Why ${id} matters too, in one line of plain text that a reader can skim quickly.` })),
    },
  ].filter((group) => group.items.length > 0);
  return { json: { title: `${ids.length} things`, intro: "What changed in the tools you use.", groups } };
}

const promptOf = (body: MessagesBody | undefined) => String(body?.messages?.[0]?.content ?? "");
const textOf = (message: EmulatedMessage) =>
  [
    message.content,
    ...message.embeds.map((embed) => `${String(embed.title ?? "")}\n${String(embed.description ?? "")}`),
  ].join("\n");
const occurrences = (text: string, needle: string) => text.split(needle).length - 1;

let feeds: FeedEmulator;
let anthropic: AnthropicEmulator;
let discord: DiscordEmulator;
let github: GitHubEmulator;
let ws: Workspace | undefined;

beforeEach(async () => {
  [feeds, anthropic, discord, github] = await Promise.all([
    startFeedEmulator(),
    startAnthropicEmulator(),
    startDiscordEmulator(),
    startGitHubEmulator(),
  ]);
  anthropic.responder = digestAnswer;
});
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
  await Promise.all([feeds.close(), anthropic.close(), discord.close(), github.close()]);
});

function workspace(jobs: unknown[]): Workspace {
  const w = createWorkspace({
    schedules: { jobs },
    env: {
      ...{
        ANTHROPIC_BASE_URL: anthropic.url,
        ANTHROPIC_API_KEY: "sk-emulated",
        DISCORD_API_URL: discord.url,
        DISCORD_TOKEN: discord.token,
      },
      ...{ GITHUB_API_URL: github.url, GITHUB_TOKEN: github.token },
    },
  });
  // The shipped skill itself, copied so other skills being edited in the repository cannot interfere.
  cpSync(join(repoRoot, "skills", "data-digest"), join(w.dir, "skills", "data-digest"), { recursive: true });
  return w;
}

function job(id: string, params: object, extra: object = {}) {
  return {
    id,
    skill: "data-digest",
    cron: "0 0 1 1 *",
    params,
    deliver: [{ to: "discord", channel: CHANNEL_ID }],
    retries: 0,
    catchUp: "none",
    ...extra,
  };
}

const aUrl = (id: string) => `${feeds.url}/a/${id}`;
const bUrl = (id: string) => `${feeds.url}/b/${id}`;

function serveGoodFeeds() {
  feeds.setFeed("/a.xml", {
    body: rss(`${feeds.url}/a`, [
      { id: "a1", title: "Cron at scale", minutesAgo: 10 },
      { id: "a2", title: "Timezones, again", minutesAgo: 50 },
    ]),
    contentType: "application/rss+xml",
    etag: '"a-1"',
  });
  feeds.setFeed("/b.atom", {
    body: atom(`${feeds.url}/b`, [
      { id: "b1", title: "SQLite WAL tips", minutesAgo: 20 },
      { id: "b2", title: "Retry budgets", minutesAgo: 30 },
    ]),
    contentType: "application/atom+xml",
    etag: '"b-1"',
  });
}

const threeFeeds = () => [
  { type: "rss", url: `${feeds.url}/a.xml`, name: "Alpha" },
  { type: "atom", url: `${feeds.url}/b.atom`, name: "Beta" },
  { type: "rss", url: `${feeds.url}/missing.xml`, name: "Broken feed" },
];

describe("data-digest on the daemon", () => {
  it(
    "digests two good feeds despite a broken one, skips with no Claude call when nothing is new, then digests only a new item",
    { timeout: 90_000 },
    async () => {
      serveGoodFeeds();
      const w = (ws = workspace([
        job(
          "news",
          { sources: threeFeeds(), focus: "running scheduled jobs", audience: "backend engineers" },
          { cron: "* * * * * *" },
        ),
      ]));
      const daemon = await w.start();
      const succeeded = () => w.runs("news").filter((run) => run.status === "succeeded");
      const first = await waitFor(() => succeeded()[0], { timeoutMs: 30_000, what: "the first digest" });
      const nothingNew = await waitFor(
        () =>
          w
            .runs("news")
            .find((run) => run.id > first.id && run.status === "skipped" && run.reason?.startsWith("nothing new")),
        { timeoutMs: 20_000, what: "a nothing-new run" },
      );

      // One digest, one Claude request (the editable system prompt, marked for caching), covering the four items of the good feeds.
      expect(anthropic.requests).toHaveLength(1);
      const system = anthropic.requests[0]?.body?.system as { text: string; cache_control?: unknown }[];
      const systemFile = readFileSync(join(repoRoot, "skills", "data-digest", "prompts", "system.md"), "utf8");
      expect(system[0]?.text).toBe(systemFile.replace(/<!--[\s\S]*?-->\s*/, "").trim());
      expect(system[0]?.text).toMatch(/^You are the editor/);
      expect(system[0]?.cache_control).toEqual({ type: "ephemeral" });
      expect(promptOf(anthropic.requests[0]?.body)).toContain(
        "Focus: running scheduled jobs\nAudience: backend engineers",
      );
      expect(succeeded()).toHaveLength(1);
      const firstPosts = discord.messages.map(textOf).join("\n");
      for (const url of [aUrl("a1"), aUrl("a2"), bUrl("b1"), bUrl("b2")])
        expect(occurrences(firstPosts, `(<${url}>)`), url).toBe(1);
      expect(firstPosts).toMatch(/Could not read: Broken feed \(HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/missing\.xml/);
      expect(firstPosts).toContain("### First things");
      // The broken source in the ledger and the logs.
      const steps = w.steps(first.id);
      expect(steps.map((s) => [s.step_id, s.status])).toEqual(
        expect.arrayContaining([
          ["source:Alpha", "succeeded"],
          ["source:Beta", "succeeded"],
          ["source:Broken feed", "failed"],
          ["select", "succeeded"],
          ["digest", "succeeded"],
        ]),
      );
      expect(steps.find((s) => s.step_id === "source:Broken feed")?.error).toMatch(/HTTP 404/);
      expect(
        daemon
          .logs()
          .some((log) => log.source === "Broken feed" && String(log.err).includes("HTTP 404") && log.run === first.id),
      ).toBe(true);
      // The skipped run says what it could not read, and asked nothing of Claude.
      expect(nothingNew.reason).toMatch(/^nothing new; could not read: Broken feed \(HTTP 404/);
      expect(w.steps(nothingNew.id).map((s) => s.step_id)).not.toContain("digest");

      // A new item in one feed: a digest of that item only.
      const postsBefore = discord.messages.length;
      const requestsBefore = anthropic.requests.length;
      expect(requestsBefore).toBe(1);
      feeds.setFeed("/a.xml", {
        body: rss(`${feeds.url}/a`, [
          { id: "a3", title: "Leap seconds", minutesAgo: 0 },
          { id: "a1", title: "Cron at scale", minutesAgo: 10 },
          { id: "a2", title: "Timezones, again", minutesAgo: 50 },
        ]),
        contentType: "application/rss+xml",
        etag: '"a-2"',
      });
      const second = await waitFor(() => succeeded()[1], { timeoutMs: 20_000, what: "the second digest" });
      await daemon.stop("SIGTERM");

      expect(anthropic.requests).toHaveLength(2);
      const prompt = promptOf(anthropic.requests[1]?.body);
      expect(prompt).toMatch(/^\[i1\] Leap seconds$/m);
      expect(prompt).not.toMatch(/^\[i2\]/m);
      const secondPosts = discord.messages.slice(postsBefore).map(textOf).join("\n");
      expect(secondPosts).toContain(`(<${aUrl("a3")}>)`);
      for (const url of [aUrl("a1"), aUrl("a2"), bUrl("b1"), bUrl("b2")]) expect(secondPosts).not.toContain(url);
      expect(w.runs("news").filter((run: LedgerRun) => run.status === "succeeded")).toHaveLength(2);
      expect(second.id).toBeGreaterThan(nothingNew.id);
    },
  );
});

describe("data-digest with sundial run", () => {
  it(
    "synthesize false: a plain list grouped by source (feeds and a GitHub repository) and no Claude request",
    { timeout: 60_000 },
    async () => {
      serveGoodFeeds();
      const repo = github.addRepo("acme/tool");
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
      repo.addRelease({
        tagName: "v1.2.0",
        name: "Faster",
        body: "Much faster.",
        createdAt: hourAgo,
        publishedAt: hourAgo,
      });
      repo.addPull({ title: "Add a cache", state: "closed", updatedAt: hourAgo, mergedAt: hourAgo });
      const sources = [...threeFeeds().slice(0, 2), { type: "github", repo: "acme/tool", name: "Tool" }];
      const w = (ws = workspace([job("plain", { sources, synthesize: false, title: "Reading list" })]));
      const result = await w.runCli(["run", "plain"]);
      expect(result.code, result.stderr).toBe(0);
      expect(anthropic.requests).toHaveLength(0);
      const posts = discord.messages.map(textOf).join("\n");
      expect(posts).toContain("Reading list — ");
      expect(posts).toMatch(
        new RegExp(
          `### Alpha\\n- \\[Cron at scale\\]\\(<${aUrl("a1")}>\\) · \\d{4}-\\d\\d-\\d\\d\\n- \\[Timezones, again\\]\\(<${aUrl("a2")}>\\)`,
        ),
      );
      expect(posts).toMatch(
        new RegExp(
          `### Beta\\n- \\[SQLite WAL tips\\]\\(<${bUrl("b1")}>\\)[^\\n]*\\n- \\[Retry budgets\\]\\(<${bUrl("b2")}>\\)`,
        ),
      );
      expect(posts).toContain("### Tool\n- [acme/tool Faster](<https://github.com/acme/tool/releases/tag/v1.2.0>)");
      expect(posts).toContain("- [Add a cache (#1)](<https://github.com/acme/tool/pull/1>)");
      expect(github.requests.map((r) => r.path)).toEqual(
        expect.arrayContaining(["/repos/acme/tool/releases", "/repos/acme/tool/pulls"]),
      );
      expect(w.runs("plain").map((run) => run.status)).toEqual(["succeeded"]);
    },
  );

  it(
    "--dry-run fetches and asks Claude for real, prints every Discord message, delivers nothing and changes no state; so does a failed delivery",
    { timeout: 120_000 },
    async () => {
      serveGoodFeeds();
      const w = (ws = workspace([job("news", { sources: threeFeeds().slice(0, 2) })]));
      const dry = await w.runCli(["run", "news", "--dry-run"]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(feeds.requests.map((r) => r.path).sort()).toEqual(["/a.xml", "/b.atom"]);
      expect(anthropic.requests).toHaveLength(1);
      expect(discord.messages).toHaveLength(0);
      expect(discord.requests).toHaveLength(0);
      expect(dry.stdout).toMatch(new RegExp(`Discord → channel ${CHANNEL_ID}: \\d+ messages?`));
      expect(dry.stdout).toContain("[embed] Digest: 4 things");
      for (const url of [aUrl("a1"), aUrl("a2"), bUrl("b1"), bUrl("b2")])
        expect(occurrences(dry.stdout, `(<${url}>)`), url).toBe(1);
      expect(w.query("SELECT key FROM job_state WHERE job = 'news'")).toEqual([]);
      expect(w.runs("news")[0]).toMatchObject({ status: "skipped", reason: expect.stringMatching(/^dry run/) });

      // A digest that does not arrive leaves its items new as well.
      discord.failNext(1, { status: 401 });
      const failed = await w.runCli(["run", "news"]);
      expect(failed.code, failed.stderr).toBe(1);
      expect(w.runs("news")[1]).toMatchObject({ status: "failed", error: expect.stringMatching(/^Discord: 401/) });
      expect(w.query("SELECT key FROM job_state WHERE job = 'news' AND key = 'digested'")).toEqual([]);

      const real = await w.runCli(["run", "news"]);
      expect(real.code, real.stderr).toBe(0);
      const posts = discord.messages.map(textOf).join("\n");
      for (const url of [aUrl("a1"), aUrl("a2"), bUrl("b1"), bUrl("b2")])
        expect(occurrences(posts, `(<${url}>)`), url).toBe(1);
      expect(w.query<{ key: string }>("SELECT key FROM job_state WHERE job = 'news'").map((row) => row.key)).toContain(
        "digested",
      );
    },
  );

  it("keeps every link intact in exactly one message when the digest is split", { timeout: 60_000 }, async () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({
      id: `post-${i}-${"x".repeat(30)}`,
      title: `A fairly long title for item number ${i}, about queues, retries and the cost of running things on time`,
      minutesAgo: i + 1,
    }));
    feeds.setFeed("/many.xml", { body: rss(`${feeds.url}/many`, entries), contentType: "application/rss+xml" });
    const w = (ws = workspace([
      job("big", { sources: [{ type: "rss", url: `${feeds.url}/many.xml`, name: "Many" }], maxItems: 40 }),
    ]));
    const result = await w.runCli(["run", "big"]);
    expect(result.code, result.stderr).toBe(0);
    const texts = discord.messages.map(textOf);
    expect(texts.join("").length).toBeGreaterThan(2 * 2000);
    expect(discord.messages.length).toBeGreaterThanOrEqual(3);
    for (const message of discord.messages) expect(message.content.length).toBeLessThanOrEqual(2000);
    for (const entry of entries) {
      const url = `${feeds.url}/many/${entry.id}`;
      expect(
        texts.filter((text) => text.includes(url)),
        url,
      ).toHaveLength(1);
      expect(texts.join("\n")).toContain(`(<${url}>)`);
    }
  });
});
