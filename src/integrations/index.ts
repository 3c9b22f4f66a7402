/**
 * @module integrations — builds what a run's context offers (`claude`, `sources`, `images`) from
 * the environment, per run, so each call carries the run's signal, logger and usage accounting.
 * The module behind each service (and its SDK) is imported on the service's first use: a daemon
 * whose skills never call Claude never loads @anthropic-ai/sdk (hundreds of modules with its
 * tracing dependency, see BENCHMARKS.md), and building a run's integrations costs next to nothing.
 */
import type { IntegrationRequest, Integrations } from "../ports/integrations.ts";
import type { ClaudeRequest, ClaudeStructuredRequest, TargetRepository } from "../types.ts";
import type { CachedFeed, HttpCache } from "./feeds/feeds.ts";
import { once } from "./lazy.ts";
import { createLeonardo } from "./leonardo/leonardo.ts";
import { createSourceFetch, preloadSources } from "./sources/index.ts";

const CACHE_PREFIX = "http-cache:";

/** The modules that import an SDK (or a parser), each imported once per process when first needed (sources: their definitions). */
const sdkModules = {
  claude: once(() => import("./claude/client.ts")),
  repoReader: once(() => import("./github/repo-reader.ts")),
  youtube: once(() => import("./youtube/youtube.ts")),
};

/** Imports every SDK now, for a process that wants them loaded before a run starts (`sundial run`). */
export async function loadAllSdks(): Promise<void> {
  // Node's own fetch (undici) is loaded on first use, which costs tens of milliseconds
  // (design-figures.md): touching `Headers` loads it now, not in the run's first request.
  void new Headers();
  await Promise.all([...Object.values(sdkModules).map((load) => load()), preloadSources()]);
}

/** Conditional-request validators kept in the job's state, so an unchanged feed costs nothing. */
function stateCache(request: IntegrationRequest): HttpCache {
  const snapshot = request.stateSnapshot;
  return {
    get: (key) => snapshot.get(CACHE_PREFIX + key) as CachedFeed | undefined,
    set: (key, value) => {
      snapshot.set(CACHE_PREFIX + key, value);
      // Only a cache: a write that fails (after the store's retries) costs one unconditional fetch
      // next time, so it is logged, never left as an unhandled rejection that would end the daemon.
      if (!request.dryRun) {
        request.store.setState(request.job.id, CACHE_PREFIX + key, value, Date.now()).catch((error: unknown) => {
          request.log.warn({ err: error instanceof Error ? error.message : String(error) }, "feed cache not saved");
        });
      }
    },
  };
}

/** A reader whose module (and Octokit) is imported on its first call. */
function lazyRepoReader(
  target: { repo: string; base: string; dir: string },
  options: { env: IntegrationRequest["env"]; signal: AbortSignal; log: IntegrationRequest["log"] },
): TargetRepository {
  const reader = once(async () => (await sdkModules.repoReader()).createRepoReader(target, options));
  return {
    repo: target.repo,
    base: target.base,
    dir: target.dir,
    head: async () => (await reader()).head(),
    files: async (commit, under) => (await reader()).files(commit, under),
    text: async (file) => (await reader()).text(file),
  };
}

export function createIntegrations(request: IntegrationRequest): Integrations {
  const { env, signal, log } = request;
  // Each client is made for this run on its first call (same options as if made up front).
  const claude = once(async () =>
    (await sdkModules.claude()).createClaudeClient({
      env,
      model: request.job.model,
      signal,
      log,
      onUsage: request.onUsage,
      budget: request.budget,
    }),
  );
  const youtube = once(async () => (await sdkModules.youtube()).createYouTube({ env, signal, log }));
  return {
    claude: {
      async text(claudeRequest: ClaudeRequest) {
        return (await claude()).text(claudeRequest);
      },
      async structured<T>(claudeRequest: ClaudeStructuredRequest<T>) {
        return (await claude()).structured(claudeRequest);
      },
    },
    images: createLeonardo({ env, signal, log }),
    sources: {
      youtube: {
        channelVideos: async (channelId) => (await youtube()).channelVideos(channelId),
        transcript: async (videoId, lang) => (await youtube()).transcript(videoId, lang),
      },
      targetRepositories: () => {
        const targets = request.job.deliver.flatMap((target) => (target.to === "github-pr" ? [target] : []));
        return targets.map((target) => lazyRepoReader(target, { env, signal, log }));
      },
      fetch: createSourceFetch({ env, signal, log, cache: stateCache(request) }),
    },
  };
}
