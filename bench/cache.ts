/**
 * @module bench/cache — 7. prompt cache: two runs of each shipped skill against the Anthropic
 * emulator (which counts cache writes and reads as the API does, with its 1,024-token minimum for
 * a cacheable prefix), new input before the second run; the share of the second run's input
 * tokens read from cache, from the ledger's usage columns. blog-autopilot's runs come from the
 * fan-out benchmark's workspace; data-digest's are made here over the feed emulator.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startAnthropicEmulator, type MessagesBody } from "../test/emulators/anthropic.ts";
import { CHANNEL_ID, startDiscordEmulator } from "../test/emulators/discord.ts";
import { startFeedEmulator, type FeedEmulator } from "../test/emulators/feeds.ts";
import { cacheShare, runJob, type RecordedRun } from "./lib/skill-runs.ts";
import { count } from "./lib/stats.ts";
import { BenchWorkspace, repoRoot } from "./lib/workspace.ts";
import type { BenchOptions, Figure, Section } from "./lib/section.ts";

export function digestSkillPresent(): boolean {
  return existsSync(join(repoRoot, "skills", "data-digest", "index.ts"));
}

function rss(base: string, ids: string[]): string {
  const items = ids.map(
    (id, i) =>
      `<item><title>News ${id}</title><link>${base}/${id}</link><guid>${base}/${id}</guid><pubDate>${new Date(Date.now() - (i + 1) * 60_000).toUTCString()}</pubDate><description>What happened in ${id}, in a sentence or two.</description></item>`,
  );
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title><link>${base}</link>${items.join("")}</channel></rss>`;
}

function setFeed(feeds: FeedEmulator, ids: string[]): void {
  feeds.setFeed("/news.xml", { body: rss(`${feeds.url}/news`, ids), contentType: "application/rss+xml" });
}

/** The model's side of a digest: every listed item in one theme. */
function digestAnswer(body: MessagesBody) {
  const prompt = JSON.stringify(body.messages?.[0]?.content ?? "");
  const ids = [...prompt.matchAll(/\[(i\d+)\]/g)].map((m) => m[1] as string);
  return {
    json: {
      title: `${ids.length} things`,
      intro: "What changed.",
      groups: [{ theme: "News", items: [...new Set(ids)].map((id) => ({ id, why: `Why ${id} matters.` })) }],
    },
  };
}

async function digestRuns(): Promise<{ first: RecordedRun; second: RecordedRun }> {
  const [feeds, anthropic, discord] = await Promise.all([
    startFeedEmulator(),
    startAnthropicEmulator({ apiKey: "sk-ant-bench-000000" }),
    startDiscordEmulator(),
  ]);
  const ws = new BenchWorkspace("cache", {});
  try {
    anthropic.responder = digestAnswer;
    ws.copySkill("data-digest");
    ws.writeSchedules({
      jobs: [
        {
          id: "digest",
          skill: "data-digest",
          cron: "0 0 1 1 *",
          params: { sources: [{ type: "rss", url: `${feeds.url}/news.xml`, name: "News" }] },
          deliver: [{ to: "discord", channel: CHANNEL_ID }],
        },
      ],
    });
    const env = {
      ANTHROPIC_API_KEY: "sk-ant-bench-000000",
      ANTHROPIC_BASE_URL: anthropic.url,
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.url,
    };
    setFeed(feeds, ["n1", "n2", "n3", "n4", "n5"]);
    const first = await runJob(ws, "digest", env);
    setFeed(feeds, ["n6", "n7", "n8", "n1", "n2", "n3", "n4", "n5"]);
    const second = await runJob(ws, "digest", env);
    return { first, second };
  } finally {
    ws.cleanup();
    await Promise.all([feeds.close(), anthropic.close(), discord.close()]);
  }
}

const usage = (run: RecordedRun) =>
  `${count(run.input)} in, ${count(run.cacheWrite)} written, ${count(run.cacheRead)} read`;

export async function promptCache(
  options: BenchOptions,
  blog: { first: RecordedRun; second: RecordedRun } | null,
): Promise<Section> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  if (blog) {
    figures.push({
      figure: "blog-autopilot: cache share of the second run's input",
      sundial: `${(100 * cacheShare(blog.second)).toFixed(0)}%`,
    });
    notes.push(
      `blog-autopilot tokens — first run (8 videos): ${usage(blog.first)}; second run (2 new videos): ${usage(blog.second)}.`,
    );
  } else notes.push("blog-autopilot: not measured (the skill was not there).");
  if (digestSkillPresent()) {
    const digest = await digestRuns();
    figures.push({
      figure: "data-digest: cache share of the second run's input",
      sundial: `${(100 * cacheShare(digest.second)).toFixed(0)}%`,
    });
    notes.push(
      `data-digest tokens — first run (5 items): ${usage(digest.first)}; second run (3 new items): ${usage(digest.second)}.`,
    );
  } else notes.push("data-digest: not measured (the skill was not there).");
  options.log(`  ${figures.map((f) => `${f.figure}: ${f.sundial}`).join("; ")}`);
  return {
    id: 7,
    title: "Prompt cache (second run of each skill)",
    method:
      "Two `sundial run`s of each shipped skill in one workspace against the Anthropic emulator, new videos or feed items before the second; " +
      "share = cache_read_tokens ÷ (input_tokens + cache_write_tokens + cache_read_tokens) of the second run, from the ledger. The emulator, like the API, " +
      "caches a marked prefix only from 1,024 tokens on, for 5 minutes.",
    figures,
    notes,
  };
}
