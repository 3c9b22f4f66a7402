/**
 * @module blog-fixtures — shared fixtures for the blog-autopilot tests: videos with scripted
 * transcripts and articles, the five emulators started together with the environment that points
 * the daemon at them, and a workspace holding a copy of the shipped skill.
 */
import { cpSync } from "node:fs";
import { afterEach } from "vitest";
import { join } from "node:path";
import {
  startAnthropicEmulator,
  type AnthropicEmulator,
  type MessagesBody,
  type Responder,
} from "../emulators/anthropic.ts";
import { CHANNEL_ID, startDiscordEmulator, type DiscordEmulator } from "../emulators/discord.ts";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.ts";
import { startLeonardoEmulator, type LeonardoEmulator } from "../emulators/leonardo.ts";
import { startYouTubeEmulator, type YouTubeEmulator } from "../emulators/youtube.ts";
import { createWorkspace, repoRoot, type Workspace } from "../helpers/workspace.ts";

export const CHANNEL_A = "UCaaaaaaaaaaaaaaaaaaaaaa";
export const CHANNEL_B = "UCbbbbbbbbbbbbbbbbbbbbbb";
export const REPO = "acme/blog";
export const POSTS_DIR = "content/posts";
export const ANTHROPIC_KEY = "fake-anthropic-blog-0000000000";
export const LEONARDO_KEY = "leo-test-blog-0000000000";

export interface FixtureVideo {
  id: string;
  channel: string;
  title: string;
  publishedAt: string;
  /** "full": a long transcript; "short": under 1,500 characters; "none": captions disabled. */
  captions: "full" | "short" | "none";
}

/** A phrase only this video's transcript holds, to prove which transcript an article came from. */
export const transcriptMarker = (id: string) => `marker-${id}-transcript`;
/** A phrase only this video's scripted article holds. */
export const articleMarker = (id: string) => `Scripted insight for ${id}`;
export const watchUrl = (id: string) => `https://www.youtube.com/watch?v=${id}`;

export function video(
  id: string,
  channel: string,
  captions: FixtureVideo["captions"],
  minutesAgo: number,
): FixtureVideo {
  return {
    id,
    channel,
    title: `Video ${id}: how it works`,
    publishedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    captions,
  };
}

/** Caption segments: about 2,400 characters for "full", about 120 for "short". */
export function segments(id: string, captions: FixtureVideo["captions"]) {
  const count = captions === "short" ? 2 : 40;
  return Array.from({ length: count }, (_, i) => ({
    text:
      i === 1
        ? `today the ${transcriptMarker(id)} matters`
        : `in part ${i} we talk about the ideas of video ${id} in some depth`,
    start: i * 3,
    duration: 3,
  }));
}

/** What the emulated Claude writes for a video: unique text, a slug, and (on purpose) no source link. */
export function scriptedArticle(id: string) {
  return {
    title: `How ${id} works`,
    slug: `How ${id} Works!`,
    description: `What the video ${id} teaches, in two sentences. Short and clear.`,
    tags: ["Testing", "video", "testing"],
    markdown: `# How ${id} works\n\nAn introduction.\n\n## The main idea\n\n${articleMarker(id)}: the essence of it.\n\n## What to do next\n\nTry it.`,
  };
}

/** The video id a Claude request is about, read from the "Video URL:" line of the prompt. */
export function videoIdOf(body: MessagesBody): string | undefined {
  const prompt = JSON.stringify(body.messages?.[0]?.content ?? "");
  return /watch\?v=([\w-]{11})/.exec(prompt)?.[1];
}

/** Answers each article request with that video's scripted article. */
export const articleResponder: Responder = (body) => {
  const id = videoIdOf(body);
  if (!id) return { json: { title: "?", slug: "", description: "?", tags: [], markdown: "?" } };
  return { json: scriptedArticle(id) };
};

export interface Emulators {
  youtube: YouTubeEmulator;
  anthropic: AnthropicEmulator;
  github: GitHubEmulator;
  discord: DiscordEmulator;
  leonardo: LeonardoEmulator;
  /** The daemon's environment: every service at its emulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startEmulators(videos: FixtureVideo[]): Promise<Emulators> {
  const [youtube, anthropic, github, discord, leonardo] = await Promise.all([
    startYouTubeEmulator(),
    startAnthropicEmulator({ apiKey: ANTHROPIC_KEY }),
    startGitHubEmulator(),
    startDiscordEmulator(),
    startLeonardoEmulator({ apiKey: LEONARDO_KEY }),
  ]);
  addVideos(youtube, videos);
  anthropic.responder = articleResponder;
  github.addRepo(REPO, { "README.md": "# The blog\n" });
  // The image is ready at the first poll (which Sundial makes after 2 s).
  leonardo.pendingPolls = 0;
  const env = {
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropic.url,
    GITHUB_TOKEN: github.token,
    GITHUB_API_URL: github.url,
    SUNDIAL_GITHUB_THROTTLE: "off",
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.url,
    LEONARDO_API_KEY: LEONARDO_KEY,
    LEONARDO_API_URL: leonardo.url,
    YOUTUBE_BASE_URL: youtube.url,
  };
  return {
    youtube,
    anthropic,
    github,
    discord,
    leonardo,
    env,
    close: async () => {
      await Promise.all([youtube.close(), anthropic.close(), github.close(), discord.close(), leonardo.close()]);
    },
  };
}

export function addVideos(youtube: YouTubeEmulator, videos: FixtureVideo[]): void {
  for (const v of videos) {
    youtube.addChannel(v.channel, [
      { id: v.id, title: v.title, publishedAt: v.publishedAt, description: `About ${v.id}.` },
    ]);
    if (v.captions === "none") youtube.setTranscript(v.id, [], null);
    else youtube.setTranscript(v.id, segments(v.id, v.captions), { format: "classic" });
  }
}

/** How often youtube-transcript asked the player API for this video (once per transcript fetch). */
export function transcriptRequests(youtube: YouTubeEmulator, id: string): number {
  return youtube.requests.filter((r) => r.path.startsWith("/youtubei/v1/player") && r.body.includes(`"${id}"`)).length;
}

/** Claude requests about this video. */
export function articleRequests(anthropic: AnthropicEmulator, id: string): number {
  return anthropic.requests.filter((r) => r.body && videoIdOf(r.body) === id).length;
}

export interface JobOptions {
  id?: string;
  cron?: string;
  params?: Record<string, unknown>;
  deliver?: unknown[];
  extra?: Record<string, unknown>;
}

export function blogJob(options: JobOptions = {}) {
  return {
    id: options.id ?? "blog",
    skill: "blog-autopilot",
    cron: options.cron ?? "* * * * * *",
    overlap: "skip",
    catchUp: "none",
    retries: 0,
    params: { channels: [CHANNEL_A, CHANNEL_B], ...options.params },
    deliver: options.deliver ?? [
      { to: "github-pr", repo: REPO, base: "main", dir: POSTS_DIR, labels: ["autopilot"] },
      { to: "discord", channel: CHANNEL_ID },
    ],
    ...options.extra,
  };
}

/** A workspace whose skills/ holds a copy of the shipped skill (and nothing another engineer is editing). */
export function blogWorkspace(env: Record<string, string>, jobs: unknown[]): Workspace {
  const ws = createWorkspace({ env, schedules: { jobs } });
  cpSync(join(repoRoot, "skills", "blog-autopilot"), join(ws.dir, "skills", "blog-autopilot"), { recursive: true });
  return ws;
}

/** The workspace and emulators a test sets, cleaned up after each test of the file that calls this. */
export function cleanedAfterEach(): { ws?: Workspace; emulators?: Emulators } {
  const held: { ws?: Workspace; emulators?: Emulators } = {};
  afterEach(async () => {
    await held.ws?.cleanup();
    await held.emulators?.close();
    held.ws = undefined;
    held.emulators = undefined;
  });
  return held;
}
