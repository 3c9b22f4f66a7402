/**
 * @module daemon — `sundial start`: takes the data directory's lock, records runs left behind by a
 * dead process as interrupted (at start and, by their expired leases, while it runs, resuming
 * those), starts the scheduler and the status server, reloads configuration when files change, and
 * on SIGTERM/SIGINT lets runs finish within the grace period.
 */
import type { App, Loaded } from "../app.ts";
import { formatProblem } from "../errors.ts";
import { httpAddress, leaseMs } from "../config/env.ts";
import { keepLeases } from "../run/lease.ts";
import type { Owner } from "../ledger/store.ts";
import { createMetrics } from "../http/metrics.ts";
import { hostname } from "node:os";
import type { Problem } from "../errors.ts";
import { cachedProbe, healthOf } from "../http/health.ts";
import { startStatusServer } from "../http/server.ts";
import { apiRoutes } from "../http/api.ts";
import { dashboardRoutes } from "../http/dashboard/index.ts";
import { spendFromLedger } from "../http/dashboard/data.ts";
import { resolveToken } from "../http/token.ts";
import { createControls, type DaemonControls } from "../control/controls.ts";
import { removeDaemonFile, writeDaemonFile } from "./daemon-file.ts";
import { Scheduler } from "../schedule/scheduler.ts";
import { sendLateAlert } from "../run/alerts.ts";
import { errorMessage } from "../errors.ts";
import { acquireLock, LockHeldError, pidAlive } from "./lock.ts";
import { watchConfiguration } from "./watch.ts";
import { discordCommandSettings } from "../discord-commands/settings.ts";
import { startDiscordGateway, type DiscordGateway } from "../discord-commands/gateway.ts";
import type { Check } from "../http/health.ts";
import { keepNodeHeartbeat } from "./nodes.ts";
import { listenForControls } from "./control-listener.ts";

export interface DaemonHandle {
  url: string;
  scheduler: Scheduler;
  /** What the API, the dashboard and Discord call. */
  controls: DaemonControls;
  /** Stops firing, drains runs within the grace period, closes everything. */
  stop(): Promise<void>;
}

function announce(app: App, loaded: Loaded): void {
  const { jobs, problems } = loaded.configuration;
  for (const problem of problems) app.log.warn(formatProblem(problem));
  for (const job of jobs) {
    if (job.enabled) app.log.debug({ job: job.id, cron: job.cron, timezone: job.timezone }, "job scheduled");
    else app.log.warn({ job: job.id, reason: job.disabledReason }, "job disabled");
  }
}

export async function startDaemon(app: App): Promise<DaemonHandle> {
  let lock;
  try {
    lock = acquireLock(app.paths.dataDir);
  } catch (error) {
    if (error instanceof LockHeldError) throw error;
    throw new Error(`cannot create the lock in ${app.paths.dataDir}: ${(error as Error).message}`, { cause: error });
  }
  const store = await app.openStore();
  let loaded = await app.load();
  if (!loaded.configuration.fileValid)
    app.log.error("schedules.json is not valid; no job runs until it is fixed (the daemon keeps watching it)");
  announce(app, loaded);

  // A holder is provably gone when no process has its pid, or when the pid is ours (a pid names one
  // process at a time: in a container the daemon is pid 1 every time). A live pid proves nothing
  // (it may have been reused), so such rows wait for their lease to expire.
  const gone = (owner: Owner) => owner.pid === process.pid || !pidAlive(owner.pid);
  const lease = leaseMs(app.env);
  // A shared ledger (PostgreSQL) holds rows of daemons on other hosts, whose pids mean nothing here:
  // only their leases decide.
  const orphans = await store.interruptExpired(
    app.owner,
    Date.now(),
    "the process running it stopped (crash, kill or power loss)",
    store.shared ? undefined : gone,
  );
  // Budget reservations of calls whose run died with its process: nothing holds them any more.
  await store.releaseStaleReservations();
  for (const orphan of orphans)
    app.log.warn({ job: orphan.job, run: orphan.id }, "run found running at start-up; marked interrupted");
  const leases = keepLeases(store, app.owner, lease, app.log);
  const nodes = keepNodeHeartbeat({
    store,
    instance: app.owner.instance,
    paths: app.paths,
    leaseMs: lease,
    log: app.log,
    env: app.env,
    adapters: app.adapters,
    alerts: () => loaded.configuration.settings.alerts,
  });
  await nodes.beat();

  let scheduler: Scheduler | null = null;
  const metrics = createMetrics(
    () => scheduler?.running ?? 0,
    () => store.listSpend({}),
  );
  const runner = app.runner(() => loaded);
  const alertDeps = {
    env: app.env,
    dataDir: app.paths.dataDir,
    log: app.log,
    now: Date.now,
    adapters: app.adapters,
    alerts: () => loaded.configuration.settings.alerts,
    scrub: app.scrub,
  };
  const events = {
    onFire: metrics.onFire,
    onOutcome: metrics.onOutcome,
    onLate: (late: Parameters<typeof sendLateAlert>[1]) =>
      void sendLateAlert(alertDeps, late).catch((error: unknown) =>
        app.log.error({ err: errorMessage(error) }, "late-schedule alert could not be sent"),
      ),
  };
  let controls: DaemonControls | null = null;
  scheduler = new Scheduler({
    store,
    runner,
    log: app.log,
    owner: app.owner,
    maxConcurrentRuns: loaded.configuration.settings.maxConcurrentRuns,
    events,
    isPaused: (job) => controls?.isPaused(job) ?? false,
  });
  // Pauses are read before the first claim, so a paused job's catch-up slots are skipped too.
  controls = await createControls({
    store,
    scheduler,
    owner: app.owner,
    current: () => loaded,
    changes: app.changes,
    log: app.log,
  });
  const operator = controls;
  const updateJobGauge = () => {
    metrics.jobs.set({ state: "enabled" }, loaded.configuration.jobs.filter((j) => j.enabled).length);
    metrics.jobs.set({ state: "disabled" }, loaded.configuration.jobs.filter((j) => !j.enabled).length);
  };
  updateJobGauge();
  // On a shared ledger, cancels and pauses made through another daemon reach this one.
  const listener = listenForControls({ store, scheduler, controls, owner: app.owner, log: app.log });
  await scheduler.start(loaded.configuration.jobs, loaded.skills);

  // Orphans are found while the daemon runs too: a `sundial run` killed with SIGKILL, or a holder
  // frozen past its lease. Each is interrupted (its epoch moves on, fencing its holder) and resumed.
  let checking = false;
  const checkOrphans = async () => {
    if (checking) return;
    checking = true;
    try {
      // By lease alone: a pid seen from here may belong to another pid namespace (a container).
      const found = await store.interruptExpired(
        app.owner,
        Date.now(),
        "its holder stopped renewing its lease (killed, or frozen past SUNDIAL_LEASE)",
      );
      for (const orphan of found)
        app.log.warn(
          { job: orphan.job, run: orphan.id, ownerPid: orphan.ownerPid },
          "run's lease expired; marked interrupted",
        );
      if (found.length) await store.releaseStaleReservations();
      const records = (await Promise.all(found.map((orphan) => store.getRun(orphan.id)))).filter((run) => run !== null);
      if (records.length) await scheduler.resume(records);
    } catch (error) {
      app.log.error({ err: String(error) }, "checking for orphaned runs failed; retrying");
    } finally {
      checking = false;
    }
  };
  const orphanTimer = setInterval(
    () => {
      void checkOrphans();
      void listener?.check();
    },
    Math.max(100, Math.floor(lease / 3)),
  ).unref();
  // The watchdog: a timer apart from the scheduler's own, so a timer of the scheduler's that never
  // fires (or a tick stuck on the ledger) is noticed, handled and announced.
  const watchdogTimer = setInterval(() => scheduler.checkOverdue(), 15_000).unref();

  let rejected: { at: number; problems: Problem[] } | null = null;
  const watcher = watchConfiguration(
    app,
    () => loaded,
    (next) => {
      loaded = next;
      rejected = null;
      scheduler.maxConcurrentRuns = next.configuration.settings.maxConcurrentRuns;
      scheduler.reload(next.configuration.jobs, next.skills);
      updateJobGauge();
      app.log.info({ jobs: next.configuration.jobs.length }, "configuration reloaded");
      announce(app, next);
      void nodes.reloaded();
    },
    (next) => {
      rejected = { at: Date.now(), problems: next.configuration.problems };
      for (const problem of next.configuration.problems) app.log.error(formatProblem(problem));
      app.log.error("configuration change rejected; the running configuration stays as it was");
    },
  );

  const prune = async () => {
    const before = Date.now() - loaded.configuration.settings.retentionMs;
    const removed = await store.prune(before);
    if (removed) app.log.info({ removed }, "old runs pruned (retention)");
    // State of jobs removed from schedules.json (untouched for the retention period) and stale feed
    // caches; not while the file is invalid, when no job at all would count as configured.
    if (!loaded.configuration.fileValid) return;
    const stale = await store.pruneState(
      loaded.configuration.jobs.map((job) => job.id),
      before,
    );
    if (stale) app.log.info({ removed: stale }, "state of removed jobs and stale feed caches pruned");
  };
  await prune();
  const pruneTimer = setInterval(
    () => void prune().catch((error: unknown) => app.log.error({ err: String(error) }, "prune failed")),
    3_600_000,
  ).unref();

  const { host, port } = httpAddress(app.env);
  const startedAt = Date.now();
  const ledgerProbe = cachedProbe(() => store.ping(Date.now()), Date.now);
  const token = resolveToken(app.env, app.paths.dataDir);
  // Discord commands: a bad variable is reported (health, log), never a reason not to run the schedule.
  let gateway: DiscordGateway | null = null;
  let discordCheck: (() => Check) | undefined;
  let discordSettings = null;
  try {
    discordSettings = discordCommandSettings(app.env);
  } catch (error) {
    const message = (error as Error).message;
    app.log.error(`Discord commands are off: ${message}`);
    discordCheck = () => ({ status: "degraded", message });
  }
  const health = () =>
    healthOf({
      scheduler: () => ({ alive: scheduler.alive, running: scheduler.running }),
      // A write proves the ledger works, but at most one per 30 s however often /healthz is polled.
      ledger: ledgerProbe,
      configuration: () => loaded.configuration,
      rejected: () => rejected,
      overdue: (at) => scheduler.overdue(at),
      late: (at) => scheduler.lateFires(at),
      node: { pid: process.pid, instance: app.owner.instance, hostname: hostname(), startedAt },
      discord: discordCheck,
      nodes: () => nodes.check(),
      now: Date.now,
    });
  const status = await startStatusServer({
    host,
    port,
    metrics,
    health,
    routes: [
      (http) => http.route("/api/v1", apiRoutes(operator, { token, log: app.log })),
      // The dashboard claims only its own paths (/, /jobs, /runs, /login, /assets, /events).
      (http) => http.route("/", dashboardRoutes({ controls: operator, token, health, spend: spendFromLedger(store) })),
    ],
  });
  writeDaemonFile(app.paths.dataDir, status.url);
  if (discordSettings) {
    gateway = startDiscordGateway({
      settings: discordSettings,
      controls: operator,
      health,
      log: app.log,
      baseUrl: status.url,
    });
    const started = gateway;
    discordCheck = () => started.check();
  }
  const ready = loaded.configuration.jobs.filter((job) => job.enabled).length;
  app.log.info(
    { url: status.url, jobs: ready, disabled: loaded.configuration.jobs.length - ready },
    "sundial is running",
  );
  // No SDK is imported here: each is imported by the first run that uses it (see src/integrations).
  // Importing them all at ready cost about a second of CPU, and collecting what they left behind
  // (V8's memory reducer, half a minute later) was the largest part of an idle daemon's CPU.

  let stopping: Promise<void> | null = null;
  return {
    url: status.url,
    scheduler,
    controls: operator,
    stop() {
      stopping ??= (async () => {
        watcher.close();
        clearInterval(pruneTimer);
        clearInterval(orphanTimer);
        clearInterval(watchdogTimer);
        app.log.info(
          { running: scheduler.running, graceMs: loaded.configuration.settings.shutdownGraceMs },
          "stopping: no new runs; waiting for running ones",
        );
        await scheduler.drain(loaded.configuration.settings.shutdownGraceMs);
        leases.stop();
        await listener?.close();
        await gateway?.close();
        await nodes.stop();
        removeDaemonFile(app.paths.dataDir);
        operator.close();
        await status.close();
        app.close();
        lock.release();
        app.log.info("stopped");
      })();
      return stopping;
    },
  };
}
