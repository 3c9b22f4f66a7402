/** @module errors — the error classes skills and integrations throw, and how the runner reads them. */

/**
 * The brand every Sundial error carries. A brand, not `instanceof`: the class a skill throws may be
 * another instance of this module than the runner's (under vitest, tests run src/ through vitest's
 * module runner while skills load through Node's loader), though a daemon shares one with its skills.
 */
const SUNDIAL_ERROR = Symbol.for("sundial.error");

/**
 * What kind of failure a Sundial error is; stable, for code to branch on (never the message).
 * - `non_retryable`: no retry will help (a skill's own `NonRetryableError`)
 * - `service`: an outside service failed (`ServiceError`; `retryable` says whether to try again)
 * - `missing_credential`: an environment variable a service needs is not set
 * - `misuse`: a programming mistake in a skill (`ctx.step("")`, `ctx.deliver` without a key)
 * - `no_transcript`: a video has no captions (`ctx.sources.youtube.transcript`)
 * - `usage`: bad CLI usage or configuration (the CLI exits 2)
 */
export type SundialErrorCode =
  "non_retryable" | "service" | "missing_credential" | "misuse" | "no_transcript" | "usage";

export interface SundialErrorOptions {
  code: SundialErrorCode;
  /** True when running the work again might succeed. @default false */
  retryable?: boolean;
  /** The error this one explains (kept as `error.cause`). */
  cause?: unknown;
}

/** The base of every error Sundial defines: a stable `code`, whether a retry may help, and the `cause`. */
export class SundialError extends Error {
  readonly [SUNDIAL_ERROR] = true;
  readonly code: SundialErrorCode;
  readonly retryable: boolean;
  constructor(message: string, options: SundialErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * True for an error Sundial (or a skill through "sundial") made, from any instance of this module.
 *
 * @example
 * if (isSundialError(error) && error.code === "no_transcript") return skip("no captions");
 */
export function isSundialError(error: unknown): error is SundialError {
  return (
    typeof error === "object" && error !== null && (error as { [SUNDIAL_ERROR]?: unknown })[SUNDIAL_ERROR] === true
  );
}

/**
 * The `code` of a Sundial error, or undefined for any other value.
 *
 * @example
 * if (errorCode(error) === "no_transcript") return { ok: false, reason: "no captions" };
 */
export function errorCode(error: unknown): SundialErrorCode | undefined {
  return isSundialError(error) ? error.code : undefined;
}

/** Fails the run at once: no retry will help (bad credentials, a 404, invalid input). */
export class NonRetryableError extends SundialError {
  constructor(message: string, options: { cause?: unknown; code?: SundialErrorCode } = {}) {
    super(message, { code: options.code ?? "non_retryable", retryable: false, cause: options.cause });
  }
}

export interface ServiceErrorOptions {
  /** The service's name as users know it ("Claude", "GitHub", "Feed hn"); the message starts with it. */
  service: string;
  /** What failed and why, without the service's name. */
  message: string;
  /** The HTTP status, when the service answered with one. */
  status?: number | undefined;
  /** True for 429, 5xx, timeouts and network errors. @default false */
  retryable?: boolean;
  cause?: unknown;
}

/** An external service failed; the message always names the service and the cause. */
export class ServiceError extends SundialError {
  readonly service: string;
  readonly status: number | undefined;
  constructor(options: ServiceErrorOptions) {
    super(`${options.service}: ${options.message}`, {
      code: "service",
      retryable: options.retryable ?? false,
      cause: options.cause,
    });
    this.service = options.service;
    this.status = options.status;
  }
}

/**
 * An environment variable a service needs is not set: the one error for a missing key, token or
 * webhook URL. Not retryable (setting the variable is the fix, and the message says so).
 */
export class MissingCredentialError extends SundialError {
  readonly variable: string;
  constructor(options: {
    service: string;
    variable: string;
    /** What it is for, or how to fix it. */
    why: string;
    /** The setting that names the variable (`headersEnv.Authorization`), when it is not a fixed one. */
    namedBy?: string;
  }) {
    const what = options.namedBy
      ? `${options.namedBy} names ${options.variable}, which is not set`
      : `${options.variable} is not set`;
    super(`${options.service}: ${what}; ${options.why}`, { code: "missing_credential" });
    this.variable = options.variable;
  }
}

/** A programming mistake in a skill (`ctx.step("")`, `ctx.deliver` without a key): fails at once, never retried. */
export class MisuseError extends SundialError {
  constructor(message: string) {
    super(message, { code: "misuse" });
  }
}

/** Bad usage or bad configuration: the CLI exits 2 with this message. */
export class UsageError extends SundialError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "usage", cause: options.cause });
  }
}

/** A configuration problem, as one line: file, JSON path, what is wrong, how to fix it. */
export interface Problem {
  file: string;
  path: string;
  message: string;
  fix?: string;
  /** "env" for a missing environment variable: a reload with only these is still applied. */
  kind?: "env";
  /** The id of the job the problem is about, shown beside its index: `jobs[3] ("morning-digest")`. */
  job?: string;
  /** The skill (by name) whose file has the problem: it affects only the jobs using that skill. */
  skill?: string;
}

export function formatProblem(problem: Problem): string {
  const path =
    problem.job === undefined
      ? problem.path
      : problem.path.replace(/^jobs\[\d+\]/, (index) => `${index} (${JSON.stringify(problem.job)})`);
  const where = path ? `${problem.file} ${path}` : problem.file;
  return `${where}: ${problem.message}${problem.fix ? ` — ${problem.fix}` : ""}`;
}

/** True when retrying the run might succeed: a Sundial error says so itself; any other error may be passing. */
export function isRetryable(error: unknown): boolean {
  return isSundialError(error) ? error.retryable : true;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
