/**
 * @module integrations — builds what a run's context offers (`claude`, `sources`, `images`) from
 * the environment, per run, so each call carries the run's signal, logger and usage accounting.
 */
import type { IntegrationRequest } from "../run/runner.ts";
import type { Integrations } from "../run/context.ts";
import type { FeedItem, SourceSpec } from "../types.ts";
import { createClaudeClient } from "./claude/client.ts";
import { createFeedFetcher, type CachedFeed, type HttpCache } from "./feeds/feeds.ts";
import { createGitHubSource } from "./github/source.ts";
import { createLeonardo } from "./leonardo/leonardo.ts";
import { createYouTube } from "./youtube/youtube.ts";

const CACHE_PREFIX = "http-cache:";

/** Conditional-request validators kept in the job's state, so an unchanged feed costs nothing. */
function stateCache(request: IntegrationRequest): HttpCache {
  const snapshot = request.stateSnapshot;
  return {
    get: (key) => snapshot.get(CACHE_PREFIX + key) as CachedFeed | undefined,
    set: (key, value) => {
      snapshot.set(CACHE_PREFIX + key, value);
      if (!request.dryRun) void request.store.setState(request.job.id, CACHE_PREFIX + key, value, Date.now());
    },
  };
}

export function createIntegrations(request: IntegrationRequest): Integrations {
  const { env, signal, log } = request;
  const youtube = createYouTube({ env, signal, log });
  const feeds = createFeedFetcher({ env, signal, log, cache: stateCache(request) });
  const github = createGitHubSource({ env, signal, log });
  return {
    claude: createClaudeClient({ env, model: request.job.model, signal, log, onUsage: request.onUsage }),
    images: createLeonardo({ env, signal, log }),
    sources: {
      youtube,
      fetch(source: SourceSpec, options?: { since?: string | null }): Promise<FeedItem[]> {
        return source.type === "github" ? github(source, options) : feeds(source);
      },
    },
  };
}
