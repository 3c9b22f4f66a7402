/**
 * @module github/octokit — the one way Sundial reaches GitHub: Octokit with bounded retries that
 * honour `retry-after`, optional throttling, response validation, and errors that name GitHub,
 * what Sundial was doing and the cause (never the token).
 */
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { Logger } from "pino";
import type { z } from "zod";
import { ServiceError } from "../../errors.ts";
import type { Env } from "../../types.ts";
import { backoffMs } from "../../util/backoff.ts";

import { GITHUB } from "./repo-name.ts";

export { GITHUB, parseRepo } from "./repo-name.ts";
export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
/** Further attempts after the first, for 429, 5xx and network errors. */
const RETRIES = 3;
/** A server asking for a longer pause fails the step (retryably) instead of holding the run. */
const MAX_WAIT_MS = 60_000;
const MAX_RATE_LIMIT_RETRIES = 1;
/** One request (each retry is another) that has not answered by then is aborted, connection closed. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export type { Octokit };
const GitHubOctokit = Octokit.plugin(retry, throttling);

interface ErrorShape {
  name?: string;
  message?: string;
  status?: number;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  request?: { request?: { retryCount?: number } };
}

export function createOctokit(options: {
  env: Env;
  signal?: AbortSignal;
  log: Logger;
  throttle?: boolean;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): Octokit {
  // SUNDIAL_GITHUB_THROTTLE=off drops the client-side spacing of writes (about a second each), for
  // GitHub Enterprise servers without secondary rate limits and for tests against the emulator.
  const { env, signal, throttle = env.SUNDIAL_GITHUB_THROTTLE !== "off" } = options;
  const log = options.log.child({ service: GITHUB });
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const again = retryCount < MAX_RATE_LIMIT_RETRIES && retryAfter * 1000 <= MAX_WAIT_MS && !signal?.aborted;
      log.warn({ retryAfter, again }, `GitHub ${kind} hit on ${request.method} ${request.url}`);
      return again;
    };
  const octokit = new GitHubOctokit({
    auth: env.GITHUB_TOKEN || undefined,
    baseUrl: (env.GITHUB_API_URL || DEFAULT_GITHUB_API_URL).replace(/\/+$/, ""),
    request: { signal, fetch: timedFetch(options.fetch ?? fetch, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) },
    // Octokit logs every request at info and every failure at error; our own errors report failures.
    log: {
      debug: () => undefined,
      info: (message: string) => log.debug(message),
      warn: (message: string) => log.warn(message),
      error: (message: string) => log.debug(message),
    },
    // Every status reaches `retryRequest` below, which decides; delays there are in milliseconds.
    retry: { retries: RETRIES, doNotRetry: [], retryAfterBaseValue: 1 },
    throttle: throttle
      ? { onRateLimit: onLimit("rate limit"), onSecondaryRateLimit: onLimit("secondary rate limit") }
      : { enabled: false },
  });
  // plugin-retry waits (n+1)² seconds whatever the server says; this makes it wait as asked.
  const retryRequest = octokit.retry.retryRequest;
  octokit.retry.retryRequest = (error, retries, retryAfter) => {
    const shape = error as ErrorShape;
    const wait = retryDelayMs(shape, shape.request?.request?.retryCount ?? 0);
    if (wait === null || signal?.aborted) return retryRequest(error, 0, retryAfter);
    log.warn({ status: shape.status, waitMs: wait }, `GitHub answered ${shape.status}; retrying`);
    return retryRequest(error, retries, wait);
  };
  return octokit;
}

/**
 * `fetch` with a per-request timeout: Octokit has none, and a server that accepts the connection and
 * never answers would hold the run until its own timeout. The timeout surfaces as a network error
 * (retried like one); the caller's abort stays an AbortError.
 */
function timedFetch(inner: typeof fetch, timeoutMs: number): typeof fetch {
  return async (input, init = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await inner(input, { ...init, signal });
    } catch (error) {
      if (timeout.aborted && !init.signal?.aborted)
        throw new Error(`no answer within ${timeoutMs} ms`, { cause: error });
      throw error;
    }
  };
}

/** Milliseconds to wait before retrying, or null when retrying cannot help or would wait too long. */
function retryDelayMs(error: ErrorShape, attempt: number): number | null {
  if (!isTransient(error)) return null;
  const headers = error.response?.headers ?? {};
  const asked = parseRetryAfter(headers["retry-after"]) ?? rateLimitResetMs(headers);
  const wait = asked ?? backoffMs(attempt, 500, 8_000);
  return wait > MAX_WAIT_MS ? null : wait;
}

function isTransient(error: ErrorShape): boolean {
  const status = error.status ?? 0;
  return status === 408 || status === 429 || status >= 500 || (status === 403 && isRateLimited(error));
}

function isRateLimited(error: ErrorShape): boolean {
  return error.response?.headers?.["x-ratelimit-remaining"] === "0" || /rate limit/i.test(error.message ?? "");
}

function parseRetryAfter(value: string | number | undefined): number | null {
  if (value === undefined || value === "") return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function rateLimitResetMs(headers: Record<string, string | number | undefined>): number | null {
  if (headers["x-ratelimit-remaining"] !== "0" || headers["x-ratelimit-reset"] === undefined) return null;
  return Math.max(0, Number(headers["x-ratelimit-reset"]) * 1000 - Date.now() + 1000);
}

/**
 * A `ServiceError` saying GitHub failed while `doing`, with the status and GitHub's own message;
 * retryable only for 429, 5xx, rate limits and network errors. `secret` (the token) is scrubbed.
 */
export function githubError(error: unknown, doing: string, secret?: string): ServiceError {
  if (error instanceof ServiceError) return error;
  const shape = (error ?? {}) as ErrorShape;
  if (shape.name === "AbortError")
    return new ServiceError({ service: GITHUB, message: `${doing}: aborted`, retryable: true });
  const status = typeof shape.status === "number" ? shape.status : undefined;
  const cause = shape.response
    ? describeBody(shape.response.data, shape.message)
    : `network error: ${shape.message ?? String(error)}`;
  const message = `${doing} failed: ${status && shape.response ? `HTTP ${status} ` : ""}${cause}`;
  return new ServiceError({
    service: GITHUB,
    message: redact(message, secret),
    status: shape.response ? status : undefined,
    retryable: !shape.response || isTransient(shape),
  });
}

function describeBody(data: unknown, fallback: string | undefined): string {
  if (data && typeof data === "object" && "message" in data) {
    const body = data as { message: unknown; errors?: unknown };
    const details = Array.isArray(body.errors)
      ? body.errors
          .map((item: { message?: unknown; code?: unknown; field?: unknown }) =>
            String(item?.message ?? [item?.field, item?.code].filter(Boolean).join(" ")),
          )
          .filter(Boolean)
      : [];
    return [String(body.message), ...details].join(": ").slice(0, 500);
  }
  if (typeof data === "string" && data.trim()) return data.trim().slice(0, 300);
  return fallback?.slice(0, 300) ?? "no message";
}

/** Removes the token, and anything shaped like a GitHub token, from text bound for logs or the ledger. */
export function redact(text: string, secret?: string): string {
  const scrubbed = secret && secret.length >= 4 ? text.replaceAll(secret, "[REDACTED]") : text;
  return scrubbed.replace(/\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})\b/g, "[REDACTED]");
}

/**
 * Runs one Octokit call and checks its response with `schema`: a failure or an unexpected body
 * becomes a `ServiceError` naming GitHub and `doing`; an aborted signal rethrows its reason.
 */
export async function callGitHub<T>(
  doing: string,
  schema: z.ZodType<T>,
  call: () => Promise<{ data: unknown }>,
  context: { signal?: AbortSignal; secret?: string },
): Promise<T> {
  context.signal?.throwIfAborted();
  let data: unknown;
  try {
    ({ data } = await call());
  } catch (error) {
    context.signal?.throwIfAborted();
    throw githubError(error, doing, context.secret);
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
  const got = typeof data === "string" ? `text "${data.slice(0, 80)}"` : typeof data;
  throw new ServiceError({
    service: GITHUB,
    message: redact(
      `${doing}: unexpected response (${got}; ${issue?.message ?? "invalid"}${where}); is GITHUB_API_URL a GitHub REST API?`,
      context.secret,
    ),
  });
}
