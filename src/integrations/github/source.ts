/**
 * @module github/source — a repository as a feed for digests: releases published and pull
 * requests merged since a time (by default the last seven days), as `FeedItem`s with stable ids.
 */
import { z } from "zod";
import { NonRetryableError } from "../../errors.ts";
import type { Env, FeedItem } from "../../types.ts";
import type { Logger } from "pino";
import { callGitHub, createOctokit, GITHUB, parseRepo } from "./octokit.ts";

const DEFAULT_WINDOW_MS = 7 * 24 * 3_600_000;
const PER_PAGE = 100;
/** Enough for a busy repository's week; older pages are never needed once one item is too old. */
const MAX_PAGES = 5;
const SUMMARY_CHARS = 1_000;

export type GitHubSourceSpec = { type: "github"; repo: string; name?: string };

const releaseSchema = z.object({
  id: z.number(),
  tag_name: z.string(),
  name: z.string().nullish(),
  body: z.string().nullish(),
  html_url: z.string(),
  draft: z.boolean(),
  created_at: z.string(),
  published_at: z.string().nullish(),
});
const pullSchema = z.object({
  number: z.number(),
  title: z.string(),
  body: z.string().nullish(),
  html_url: z.string(),
  updated_at: z.string(),
  merged_at: z.string().nullish(),
});

export function createGitHubSource(options: {
  env: Env;
  signal: AbortSignal;
  log: Logger;
  throttle?: boolean;
  now?: () => number;
  timeoutMs?: number;
}) {
  const { env, log, throttle, timeoutMs } = options;
  const now = options.now ?? Date.now;

  /** `opts.signal` aborts this one fetch (a source's own timeout); `options.signal` aborts them all. */
  return async function fetchGitHub(
    source: GitHubSourceSpec,
    opts: { since?: string | null; signal?: AbortSignal } = {},
  ): Promise<FeedItem[]> {
    const signal = opts.signal ? AbortSignal.any([options.signal, opts.signal]) : options.signal;
    const { owner, repo } = parseRepo(source.repo);
    const sinceMs = opts.since ? Date.parse(opts.since) : now() - DEFAULT_WINDOW_MS;
    if (Number.isNaN(sinceMs)) throw new NonRetryableError(`${GITHUB}: "${opts.since}" is not an ISO time for since`);
    const octokit = createOctokit({ env, signal, log, throttle, ...(timeoutMs ? { timeoutMs } : {}) });
    const where = `${owner}/${repo}`;
    const context = { signal, secret: env.GITHUB_TOKEN };
    const label = source.name ?? source.repo;
    const isNew = (time: string | null | undefined) => Boolean(time) && Date.parse(time as string) >= sinceMs;

    // Releases come newest first (by creation); pull requests by last update, newest first.
    const releases = await collectPages(
      (page) =>
        callGitHub(
          `listing releases of ${where}`,
          z.array(releaseSchema),
          () => octokit.repos.listReleases({ owner, repo, per_page: PER_PAGE, page }),
          context,
        ),
      (release) => !isNew(release.published_at ?? release.created_at),
    );
    const pulls = await collectPages(
      (page) =>
        callGitHub(
          `listing merged pull requests of ${where}`,
          z.array(pullSchema),
          () =>
            octokit.pulls.list({
              owner,
              repo,
              state: "closed",
              sort: "updated",
              direction: "desc",
              per_page: PER_PAGE,
              page,
            }),
          context,
        ),
      (pull) => !isNew(pull.updated_at),
    );

    const items: FeedItem[] = [
      ...releases
        .filter((release) => !release.draft && isNew(release.published_at))
        .map((release) => ({
          id: `github:${where}:release:${release.id}`,
          title: `${where} ${release.name?.trim() || release.tag_name}`,
          url: release.html_url,
          summary: trimmed(release.body),
          publishedAt: release.published_at ?? undefined,
          source: label,
        })),
      ...pulls
        .filter((pull) => isNew(pull.merged_at))
        .map((pull) => ({
          id: `github:${where}:pr:${pull.number}`,
          title: `${pull.title} (#${pull.number})`,
          url: pull.html_url,
          summary: trimmed(pull.body),
          publishedAt: pull.merged_at ?? undefined,
          source: label,
        })),
    ];
    log.debug({ repo: where, items: items.length }, "fetched GitHub activity");
    return items.sort((a, b) => (b.publishedAt ?? "").localeCompare(a.publishedAt ?? ""));
  };
}

/** Pages until one comes back short or holds an item older than the window. */
async function collectPages<T>(fetchPage: (page: number) => Promise<T[]>, isOld: (item: T) => boolean): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const items = await fetchPage(page);
    all.push(...items);
    if (items.length < PER_PAGE || items.some(isOld)) break;
  }
  return all;
}

/** More than any summary needs, even after template comments are dropped: a body is cut to this first. */
const BODY_INPUT_MAX_CHARS = 64 * 1024;

function trimmed(body: string | null | undefined): string | undefined {
  const text = body ? withoutComments(body.slice(0, BODY_INPUT_MAX_CHARS)).trim() : undefined;
  if (!text) return undefined;
  return text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS).trimEnd()}…` : text;
}

/** Drops `<!-- … -->` in one pass; an unclosed comment runs to the end (a lazy regex would search from every opener). */
function withoutComments(text: string): string {
  const parts: string[] = [];
  let from = 0;
  for (;;) {
    const open = text.indexOf("<!--", from);
    if (open < 0) break;
    parts.push(text.slice(from, open));
    const close = text.indexOf("-->", open + 4);
    if (close < 0) return parts.join("");
    from = close + 3;
  }
  parts.push(text.slice(from));
  return parts.join("");
}
