/**
 * @module watch — notices edits to schedules.json and the skills directory and hands over the newly
 * loaded configuration. File-system events (`fs.watch` on the directories involved) make it look
 * at once; a poll every few seconds is the safety net for file systems that deliver no events
 * (some network shares and VM bind mounts). Either way it compares a cheap fingerprint (paths,
 * sizes, modification times), so a spurious event loads nothing and a missed one is caught by the
 * poll. Why not poll every second or two as before: on a small VM each wake-up of an idle daemon
 * costs about a millisecond of CPU, and the poll was most of its idle cost.
 */
import { readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { App, Loaded } from "../app.ts";
import { errorMessage } from "../errors.ts";
import { skillsFingerprint } from "../skill/load.ts";

/** The safety-net poll: how long an edit can go unnoticed where the file system sends no events. */
export const POLL_MS = 5000;
/** An editor's save is a burst of events; look once, shortly after the burst. */
const SETTLE_MS = 100;
/** As deep as `skillsFingerprint` looks. */
const SKILL_DIR_DEPTH = 4;

function fingerprint(app: App): string {
  const stat = statSync(app.paths.schedules, { throwIfNoEntry: false });
  return `${stat?.size}:${stat?.mtimeMs}|${skillsFingerprint(app.paths.skillsDir)}`;
}

/**
 * A configuration is rejected when anything but a missing environment variable is wrong with it:
 * the daemon then keeps its running configuration instead of disabling jobs over a typo. A broken
 * skill file that no job uses is reported but rejects nothing.
 */
export function isAcceptable(loaded: Loaded): boolean {
  const { configuration } = loaded;
  const used = new Set(configuration.jobs.map((job) => job.skill));
  return (
    configuration.fileValid &&
    configuration.problems.every(
      (problem) => problem.kind === "env" || (problem.skill !== undefined && !used.has(problem.skill)),
    )
  );
}

/** The skills directory and its subdirectories, skipping what `skillsFingerprint` skips. */
function skillDirectories(dir: string, depth = 0, found: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  found.push(dir);
  if (depth < SKILL_DIR_DEPTH) {
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
        skillDirectories(join(dir, entry.name), depth + 1, found);
    }
  }
  return found;
}

/** One `fs.watch` per directory, kept in step with the directories that exist. */
class DirectoryWatchers {
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(private readonly onEvent: (dir: string, file: string | null) => void) {}

  sync(dirs: readonly string[]): void {
    const wanted = new Set(dirs);
    for (const [dir, watcher] of this.watchers) {
      if (!wanted.has(dir)) this.drop(dir, watcher);
    }
    for (const dir of wanted) if (!this.watchers.has(dir)) this.add(dir);
  }

  private add(dir: string): void {
    try {
      // Not persistent: watching must not keep the process alive (the poll timer is unref'd too).
      const watcher = watch(dir, { persistent: false }, (_event, file) =>
        this.onEvent(dir, file === null ? null : String(file)),
      );
      // E.g. the directory was removed; the poll notices what changed and the next sync watches again.
      watcher.on("error", () => this.drop(dir, watcher));
      this.watchers.set(dir, watcher);
    } catch {
      // No such directory (yet), or no inotify watches left: the poll covers it.
    }
  }

  private drop(dir: string, watcher: FSWatcher): void {
    watcher.close();
    if (this.watchers.get(dir) === watcher) this.watchers.delete(dir);
  }

  close(): void {
    for (const [dir, watcher] of this.watchers) this.drop(dir, watcher);
  }
}

export function watchConfiguration(
  app: App,
  current: () => Loaded,
  apply: (next: Loaded) => void,
  reject: (next: Loaded) => void,
): { close(): void } {
  const schedulesDir = dirname(app.paths.schedules);
  // What counts in schedules.json's directory, which may be busy with other files.
  const namesThatCount = new Set([basename(app.paths.schedules)]);
  if (dirname(app.paths.skillsDir) === schedulesDir) namesThatCount.add(basename(app.paths.skillsDir));
  let seen = fingerprint(app);
  let busy = false;
  let lookAgain = false;
  let settle: NodeJS.Timeout | undefined;

  const watchers = new DirectoryWatchers((dir, file) => {
    if (dir === schedulesDir && dir !== app.paths.skillsDir && file !== null && !namesThatCount.has(file)) return;
    clearTimeout(settle);
    settle = setTimeout(() => look(true), SETTLE_MS).unref();
  });
  const syncWatchers = () => watchers.sync([schedulesDir, ...skillDirectories(app.paths.skillsDir)]);

  /** Loads the configuration if the files changed; `event`: woken by the file system (directories may have come or gone). */
  function look(event: boolean): void {
    if (busy) {
      lookAgain = true;
      return;
    }
    const now = fingerprint(app);
    if (event || now !== seen) syncWatchers();
    if (now === seen) return;
    seen = now;
    busy = true;
    app
      .load(current())
      .then((next) => (isAcceptable(next) ? apply(next) : reject(next)))
      .catch((error: unknown) => app.log.error({ err: errorMessage(error) }, "configuration reload failed"))
      .finally(() => {
        busy = false;
        if (lookAgain) {
          lookAgain = false;
          look(true);
        }
      });
  }

  syncWatchers();
  const timer = setInterval(() => look(false), POLL_MS).unref();
  return {
    close() {
      clearInterval(timer);
      clearTimeout(settle);
      watchers.close();
    },
  };
}
