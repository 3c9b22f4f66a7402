/**
 * @module app — what every command shares: the environment, paths, logger, ledger, delivery
 * adapters, and loading the configuration (schedules.json resolved against skills and env).
 */
import { randomUUID } from "node:crypto";
import { relative } from "node:path";
import type { Logger } from "pino";
import type { DeliveryAdapter, Env } from "./types.ts";
import type { Owner } from "./ledger/store.ts";
import { databaseUrl, leaseMs, loadEnv, pathsFrom, type Paths } from "./config/env.ts";
import {
  defaultSettings,
  jobProblemsOfInvalidFile,
  readSchedules,
  resolveConfiguration,
  type Configuration,
} from "./config/load.ts";
import { loadSkills, type LoadedSkill } from "./skill/load.ts";
import { ledgerAccess, type LedgerAccess } from "./ledger/access.ts";
import { createDeliveryAdapters } from "./deliver/index.ts";
import { createIntegrations, loadAllSdks } from "./integrations/index.ts";
import { createLogger } from "./log.ts";
import { createGrowingScrubber, type Scrub } from "./util/redact.ts";
import { createRunner, type Runner } from "./run/runner.ts";
import { createChangeFeed, observeStore, type ChangeFeed } from "./control/changes.ts";

export interface App extends LedgerAccess {
  cwd: string;
  env: Env;
  paths: Paths;
  log: Logger;
  scrub: Scrub;
  owner: Owner;
  adapters: Map<string, DeliveryAdapter>;
  /** Names each run whose state `store()` changed (for the API's events and the dashboard). */
  changes: ChangeFeed;
  /** With `previous`, skills that fail to load keep their previous version. */
  load(previous?: Loaded): Promise<Loaded>;
  /**
   * Imports every SDK behind `ctx.claude` and `ctx.sources` now (`sundial run` does, so the run's
   * recorded time is its own work). Otherwise each is imported on its first use: the daemon does
   * not preload them, as a daemon whose skills never call a service should not carry its SDK.
   */
  preload(): Promise<void>;
  runner(current: () => Loaded, options?: { onStep?: Parameters<typeof createRunner>[0]["onStep"] }): Runner;
}

export interface Loaded {
  configuration: Configuration;
  skills: Map<string, LoadedSkill>;
}

export interface AppOptions {
  cwd?: string;
  env?: Env;
  log?: Logger;
  logLevel?: string;
}

/**
 * Every variable named by a key ending in `Env` (`webhookEnv`, `urlEnv`, and each value of
 * `headersEnv`), wherever it sits in schedules.json (valid or not): targets and sources name their
 * secrets so, whatever the variables are called.
 */
function secretEnvNames(value: unknown, depth = 0): string[] {
  if (typeof value !== "object" || value === null || depth > 8) return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    if (/Env$/.test(key) && typeof inner === "string") return [inner];
    if (/Env$/.test(key) && typeof inner === "object" && inner !== null && !Array.isArray(inner))
      return Object.values(inner).filter((name): name is string => typeof name === "string");
    return secretEnvNames(inner, depth + 1);
  });
}

export function createApp(options: AppOptions = {}): App {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? loadEnv(cwd);
  const paths = pathsFrom(env, cwd);
  // Grows with the `…Env` names of schedules.json at each load: those values are secrets whatever their names.
  const scrub = createGrowingScrubber(env);
  const log =
    options.log ??
    createLogger({ level: options.logLevel ?? env.LOG_LEVEL ?? "info", pretty: Boolean(process.stderr.isTTY), scrub });
  const adapters = createDeliveryAdapters();
  const changes = createChangeFeed();
  const ledger = ledgerAccess({
    database: paths.database,
    url: databaseUrl(env),
    leaseMs: leaseMs(env),
    scrub,
    warn: (message) => log.warn(message),
    wrap: (opened) => observeStore(opened, changes),
  });

  const app: App = {
    cwd,
    env,
    paths,
    log,
    scrub,
    owner: { pid: process.pid, instance: randomUUID() },
    adapters,
    changes,
    store: ledger.store,
    openStore: ledger.openStore,
    readStore: ledger.readStore,
    openReadStore: ledger.openReadStore,
    async load(previous) {
      const skillSet = await loadSkills(paths.skillsDir, previous?.skills);
      const relativePath = relative(cwd, paths.schedules);
      const shown = relativePath && !relativePath.startsWith("..") ? relativePath : paths.schedules;
      const read = readSchedules(paths.schedules, shown);
      scrub.addSecretNames(secretEnvNames("schedules" in read ? read.schedules : read.raw));
      if ("problems" in read) {
        const jobProblems = read.raw === undefined ? [] : jobProblemsOfInvalidFile(shown, read.raw, skillSet, env);
        const problems = [...read.problems, ...jobProblems, ...skillSet.problems];
        return {
          skills: skillSet.skills,
          configuration: { settings: defaultSettings(), jobs: [], problems, fileValid: false },
        };
      }
      return { skills: skillSet.skills, configuration: resolveConfiguration(shown, read.schedules, skillSet, env) };
    },
    preload: loadAllSdks,
    runner(current, runnerOptions = {}) {
      return createRunner({
        store: app.store(),
        env,
        dataDir: paths.dataDir,
        log,
        now: Date.now,
        adapters,
        integrations: async (request) => createIntegrations(request),
        writePreview: (text) => process.stdout.write(text),
        alerts: () => current().configuration.settings.alerts,
        budget: () => current().configuration.settings.budget,
        graceMs: () => current().configuration.settings.shutdownGraceMs,
        scrub,
        onStep: runnerOptions.onStep,
      });
    },
    close: ledger.close,
  };
  return app;
}
