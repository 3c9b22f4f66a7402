/**
 * @module http — `fetch` for services without an SDK (feeds, Leonardo, YouTube pages): retries 408,
 * 429, 5xx and network errors with the server's `retry-after` or exponential backoff with jitter;
 * anything else becomes a `ServiceError` naming the service, the status and the cause (from at most
 * 64 KB of the error body). Redirects are followed by `fetchFollowing`'s rules; bodies are the
 * caller's to read, with `readBodyLimited`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceError } from "../errors.ts";
import { backoffMs, retryAfterMs } from "../util/backoff.ts";
import { readTextPrefix } from "./http-body.ts";
import { fetchFollowing, type NetworkPolicy } from "./http-redirects.ts";

export interface FetchRetryOptions {
  signal?: AbortSignal;
  /** Further attempts after the first; default 3. */
  retries?: number;
  /** First backoff delay; doubled each attempt, with full jitter. Default 500 ms. */
  baseDelayMs?: number;
  /** No single wait is longer than this, whatever `retry-after` says; default 60 s. */
  maxDelayMs?: number;
  /** Per-attempt timeout; default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** How redirects are judged (and a resolver for tests). */
  network?: NetworkPolicy;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export async function fetchWithRetry(
  service: string,
  url: string,
  init: RequestInit = {},
  options: FetchRetryOptions = {},
): Promise<Response> {
  const { retries = 3, baseDelayMs = 500, maxDelayMs = 60_000, timeoutMs = 30_000, signal } = options;
  const doFetch = options.fetch ?? fetch;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetchFollowing(doFetch, service, url, { ...init, signal: combined }, options.network);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof ServiceError) throw error;
      const cause = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
      if (attempt >= retries)
        throw new ServiceError({ service, message: `${cause} (${safeUrl(url)})`, retryable: true });
      await sleep(backoffMs(attempt, baseDelayMs, maxDelayMs), undefined, { signal });
      continue;
    }
    if (response.ok || response.status === 304) return response;
    const body = await readTextPrefix(response).catch(() => "");
    if (RETRYABLE_STATUS.has(response.status) && attempt < retries) {
      const wait = Math.min(maxDelayMs, retryAfterMs(response.headers) ?? backoffMs(attempt, baseDelayMs, maxDelayMs));
      await sleep(wait, undefined, { signal });
      continue;
    }
    const retryable = RETRYABLE_STATUS.has(response.status);
    throw new ServiceError({
      service,
      message: `HTTP ${response.status} from ${safeUrl(url)}${body ? `: ${body.slice(0, 300)}` : ""}`,
      status: response.status,
      retryable,
    });
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** The URL without its query string, which may carry keys. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "(invalid url)";
  }
}
