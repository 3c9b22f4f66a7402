/**
 * @module watch — notices edits to schedules.json and the skills directory within two seconds
 * and hands over the newly loaded configuration. Polling (a few stats every two seconds) rather than fs.watch,
 * because it behaves the same on every file system, editor and bind mount (about 0.05% of a core).
 */
import { statSync } from "node:fs";
import type { App, Loaded } from "../app.ts";
import { errorMessage } from "../errors.ts";
import { skillsFingerprint } from "../skill/load.ts";

export const POLL_MS = 2000;

function fingerprint(app: App): string {
  const stat = statSync(app.paths.schedules, { throwIfNoEntry: false });
  return `${stat?.size}:${stat?.mtimeMs}|${skillsFingerprint(app.paths.skillsDir)}`;
}

/**
 * A configuration is rejected when anything but a missing environment variable is wrong with it:
 * the daemon then keeps its running configuration instead of disabling jobs over a typo.
 */
export function isAcceptable(loaded: Loaded): boolean {
  return loaded.configuration.fileValid && loaded.configuration.problems.every((problem) => problem.kind === "env");
}

export function watchConfiguration(app: App, current: () => Loaded, apply: (next: Loaded) => void, reject: (next: Loaded) => void): { close(): void } {
  let seen = fingerprint(app);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    const now = fingerprint(app);
    if (now === seen) return;
    seen = now;
    busy = true;
    app
      .load(current())
      .then((next) => (isAcceptable(next) ? apply(next) : reject(next)))
      .catch((error: unknown) => app.log.error({ err: errorMessage(error) }, "configuration reload failed"))
      .finally(() => {
        busy = false;
      });
  }, POLL_MS);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
