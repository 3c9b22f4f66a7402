/**
 * @module data-digest/gather — reads every source at once, one memoized step each, so a broken or
 * slow source is reported (logged, named in the digest) without sinking the others.
 */
import { isRetryable } from "sundial";
import type { FeedItem, SkillContext, SourceSpec } from "sundial";

export interface SourceFailure {
  /** The source's name, or its URL (without the query, which may hold a key) or repository. */
  name: string;
  cause: string;
  /** False when reading it again cannot help (a 404, a malformed feed). */
  retryable: boolean;
}

export interface Gathered {
  items: FeedItem[];
  failures: SourceFailure[];
}

export interface GatherOptions {
  /** A source that has not answered by then counts as failed for this run. */
  timeoutMs: number;
  /** For GitHub sources: activity since then (see `githubSince`); null for the source's default window. */
  since: string | null;
}

type GatherContext = Pick<SkillContext, "step" | "sources" | "log" | "signal" | "parallel">;

const MAX_CAUSE_CHARS = 200;
const CONCURRENCY = 8;

/**
 * `lastSuccessAt` is when the last digest *finished*: activity from while it ran (Claude can take a
 * minute) must not fall between two digests, so GitHub is asked for a day more; the digested ids
 * keep those items from appearing twice.
 */
export const SINCE_MARGIN_MS = 86_400_000;

export function githubSince(lastSuccessAt: string | null): string | null {
  const ms = lastSuccessAt ? Date.parse(lastSuccessAt) : Number.NaN;
  return Number.isFinite(ms) ? new Date(ms - SINCE_MARGIN_MS).toISOString() : null;
}

/** How a source is named in step ids, logs and the digest's footer. */
export function sourceLabel(source: SourceSpec): string {
  if (source.name?.trim()) return source.name.trim();
  if (source.type === "github") return source.repo;
  try {
    const url = new URL(source.url);
    return `${url.host}${url.pathname}`;
  } catch {
    // Never the query (keys) nor user:pass@ (credentials): the label is shown to readers.
    return (source.url.split("?")[0] ?? "").replace(/\/\/[^/]*@/, "//");
  }
}

/** Step ids must differ even when two sources share a name. */
function stepIds(labels: readonly string[]): string[] {
  const counts = new Map<string, number>();
  return labels.map((label) => {
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    return n === 1 ? `source:${label}` : `source:${label}#${n}`;
  });
}

/** Runs `work` with a signal that aborts it (closing its requests) when `ms` pass; the error says so. */
function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const controller = new AbortController();
  const late = new Error(`no answer within ${ms < 1000 ? `${ms}ms` : `${Math.round(ms / 1000)}s`}`);
  const pending = work(controller.signal);
  // The aborted fetch settles soon after; its own error no longer matters, but must not go unhandled.
  pending.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(late);
      reject(late);
    }, ms);
  });
  return Promise.race([pending, timedOut]).finally(() => clearTimeout(timer));
}

/** The error's message without the "Service: " prefix the footer's own wording makes redundant. */
export function causeOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const service = (error as { service?: unknown }).service;
  const bare =
    typeof service === "string" && message.startsWith(`${service}: `) ? message.slice(service.length + 2) : message;
  const line = bare.replace(/\s+/g, " ").trim() || "unknown error";
  return line.length > MAX_CAUSE_CHARS ? `${line.slice(0, MAX_CAUSE_CHARS - 1)}…` : line;
}

export async function gatherSources(
  ctx: GatherContext,
  sources: readonly SourceSpec[],
  options: GatherOptions,
): Promise<Gathered> {
  const labels = sources.map(sourceLabel);
  const ids = stepIds(labels);
  const results = await ctx.parallel(
    sources,
    async (source, index): Promise<FeedItem[] | SourceFailure> => {
      const name = labels[index] as string;
      try {
        return await ctx.step(ids[index] as string, () =>
          withTimeout(
            (signal) =>
              ctx.sources.fetch(source, source.type === "github" ? { since: options.since, signal } : { signal }),
            options.timeoutMs,
          ),
        );
      } catch (error) {
        // The run's own timeout or shutdown is not one source's failure.
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const cause = causeOf(error);
        ctx.log.warn({ source: name, err: cause }, "source could not be read; the digest goes on without it");
        return { name, cause, retryable: isRetryable(error) };
      }
    },
    { concurrency: CONCURRENCY },
  );
  const gathered: Gathered = { items: [], failures: [] };
  for (const result of results) {
    if (Array.isArray(result)) gathered.items.push(...result);
    else gathered.failures.push(result);
  }
  return gathered;
}
