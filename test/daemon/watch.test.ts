/**
 * `watchConfiguration` (src/daemon/watch.ts): file-system events make it reload at once, well
 * before its safety-net poll; other files beside schedules.json load nothing; a skill directory
 * made after the start is watched too; after `close()` nothing is loaded.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { App, Loaded } from "../../src/app.ts";
import { POLL_MS, watchConfiguration } from "../../src/daemon/watch.ts";

const root = join(import.meta.dirname, "..", "..", ".tmp");
let dir = "";
let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  stop = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const accepted: Loaded = {
  skills: new Map(),
  configuration: {
    settings: { maxConcurrentRuns: 1, retentionMs: 1, shutdownGraceMs: 1, alerts: [] },
    jobs: [],
    problems: [],
    fileValid: true,
  },
};

/** A workspace and a watcher on it; `loads` counts configuration loads, `applied` the accepted ones. */
function watched() {
  mkdirSync(root, { recursive: true });
  dir = mkdtempSync(join(root, "watch-"));
  mkdirSync(join(dir, "skills"));
  writeFileSync(join(dir, "schedules.json"), `{ "jobs": [] }`);
  const counts = { loads: 0, applied: 0 };
  const app = {
    paths: {
      schedules: join(dir, "schedules.json"),
      skillsDir: join(dir, "skills"),
      dataDir: join(dir, "data"),
      database: join(dir, "data", "sundial.db"),
    },
    load: async () => {
      counts.loads++;
      return accepted;
    },
    log: { error: () => undefined },
  } as unknown as App;
  const watcher = watchConfiguration(
    app,
    () => accepted,
    () => counts.applied++,
    () => undefined,
  );
  stop = () => watcher.close();
  return { counts, close: () => watcher.close() };
}

/** Waits until `done()` or `ms` have passed; returns how long it took. */
async function within(ms: number, done: () => boolean): Promise<number> {
  const started = Date.now();
  while (!done() && Date.now() - started < ms) await sleep(20);
  return Date.now() - started;
}

describe("watching the configuration", () => {
  it("reloads at once on an edit, through file-system events rather than the poll", async () => {
    const { counts } = watched();
    writeFileSync(join(dir, "schedules.json"), `{ "jobs": [ ] }\n`);
    const tookMs = await within(POLL_MS, () => counts.applied === 1);
    expect(counts.applied).toBe(1);
    expect(tookMs).toBeLessThan(POLL_MS / 2);

    writeFileSync(join(dir, "skills", "tick.ts"), "export default {};\n");
    await within(POLL_MS, () => counts.applied === 2);
    expect(counts.applied).toBe(2);
  });

  it("loads nothing for other files beside schedules.json", async () => {
    const { counts } = watched();
    writeFileSync(join(dir, "notes.txt"), "not configuration");
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "sundial.db"), "a busy database");
    await sleep(500);
    expect(counts.loads).toBe(0);
  });

  it("watches a skill directory made after the start", async () => {
    const { counts } = watched();
    mkdirSync(join(dir, "skills", "digest", "lib"), { recursive: true });
    await sleep(300);
    writeFileSync(join(dir, "skills", "digest", "lib", "format.ts"), "export const x = 1;\n");
    const before = counts.applied;
    const tookMs = await within(POLL_MS, () => counts.applied > before);
    expect(counts.applied).toBeGreaterThan(before);
    expect(tookMs).toBeLessThan(POLL_MS / 2);
  });

  it("loads nothing once closed", async () => {
    const { counts, close } = watched();
    close();
    writeFileSync(join(dir, "schedules.json"), `{ "jobs": [] }\n\n`);
    await sleep(POLL_MS + 500);
    expect(counts.loads).toBe(0);
  });
});
