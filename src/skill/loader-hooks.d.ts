/** @module skill/loader-hooks — types of the in-thread hooks of loader-hooks.js (plain JavaScript; see there). */
type Next<Result> = (specifierOrUrl: string, context?: object) => Result;

export function resolveSync(
  specifier: string,
  context: { parentURL?: string },
  nextResolve: Next<{ url: string }>,
): { url: string };
export function loadSync(url: string, context: object, nextLoad: Next<object>): object;
