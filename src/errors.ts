/** @module errors — the error classes skills and integrations throw, and how the runner reads them. */

/**
 * Marks an error as not worth retrying. A brand, not `instanceof`: the class a skill throws may be
 * another instance of this module than the runner's (under vitest, tests run src/ through vitest's
 * module runner while skills load through Node's loader), though a daemon shares one with its skills.
 */
export const NON_RETRYABLE = Symbol.for("sundial.nonRetryable");

/** Fails the run at once: no retry will help (bad credentials, a 404, invalid input). */
export class NonRetryableError extends Error {
  override name = "NonRetryableError";
  readonly [NON_RETRYABLE] = true;
}

/** An external service failed; the message always names the service and the cause. */
export class ServiceError extends Error {
  override readonly name = "ServiceError";
  constructor(
    readonly service: string,
    message: string,
    readonly status?: number,
    /** True for 429, 5xx, timeouts and network errors. */
    readonly retryable = false,
  ) {
    super(`${service}: ${message}`);
  }
}

/** Bad usage or bad configuration: the CLI exits 2 with this message. */
export class UsageError extends Error {
  override readonly name = "UsageError";
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
  const path = problem.job === undefined ? problem.path : problem.path.replace(/^jobs\[\d+\]/, (index) => `${index} (${JSON.stringify(problem.job)})`);
  const where = path ? `${problem.file} ${path}` : problem.file;
  return `${where}: ${problem.message}${problem.fix ? ` — ${problem.fix}` : ""}`;
}

/** True when retrying the run might succeed. */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return true;
  if ((error as { [NON_RETRYABLE]?: boolean })[NON_RETRYABLE]) return false;
  if ((error as Error).name === "ServiceError") return (error as ServiceError).retryable;
  return true;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
