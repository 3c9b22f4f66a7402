/**
 * @module retry-each — the loop both ledgers wrap their store in: every method but `close` is tried
 * again, after the wait `decide` gives, until it succeeds, `decide` gives up (null) or the store is
 * closed. Each store says which errors are worth another try (sqlite-retry.ts, postgres-retry.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";

/** Another try after `delayMs`, telling `warn` first when set; null: the error stands. */
export type RetryDecision = { delayMs: number; warn?: string } | null;

export function retryEachMethod<T extends object>(
  store: T,
  isClosed: () => boolean,
  decide: (method: string, error: unknown, tries: number, elapsedMs: number) => RetryDecision,
  options: { warn?: (message: string) => void; explain?: (error: unknown) => unknown } = {},
): T {
  const wrapped = { ...store } as Record<string, unknown>;
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== "function" || name === "close") continue;
    const method = value as (...args: unknown[]) => unknown;
    wrapped[name] = async (...args: unknown[]) => {
      const started = Date.now();
      for (let tries = 1; ; tries++) {
        try {
          return await method.apply(store, args);
        } catch (error) {
          const decision = decide(name, error, tries, Date.now() - started);
          if (!decision || isClosed()) throw options.explain ? options.explain(error) : error;
          if (decision.warn) options.warn?.(decision.warn);
          await sleep(decision.delayMs);
          if (isClosed()) throw error;
        }
      }
    };
  }
  return wrapped as T;
}
