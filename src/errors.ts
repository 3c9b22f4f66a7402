/** @module errors — the error classes skills and integrations throw, and how the runner reads them. */

/** Fails the run at once: no retry will help (bad credentials, a 404, invalid input). */
export class NonRetryableError extends Error {
  override readonly name = "NonRetryableError";
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

/** A configuration problem, as one line: file, JSON path, what is wrong, how to fix it. */
export interface Problem {
  file: string;
  path: string;
  message: string;
  fix?: string;
}

export function formatProblem(problem: Problem): string {
  const where = problem.path ? `${problem.file} ${problem.path}` : problem.file;
  return `${where}: ${problem.message}${problem.fix ? ` — ${problem.fix}` : ""}`;
}

/** True when retrying the run might succeed. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return false;
  if (error instanceof ServiceError) return error.retryable;
  return true;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
