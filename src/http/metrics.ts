/**
 * @module metrics — the daemon's Prometheus metrics: fires, outcomes by status, fire lag and run
 * duration, and the process's. One registry per daemon (no global default registry a test would
 * have to reset).
 */
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { SpendRow } from "../ledger/store.ts";

const PROCESS_PREFIX = "sundial_process_";

/**
 * prom-client's default metrics (CPU, memory, heap, handles, GC…), each registered by its own
 * module, all but `eventLoopLag`: its event-loop delay sampler is a timer that wakes an idle daemon
 * twice a second even at a 500 ms resolution, half the idle budget on a small VM (BENCHMARKS.md).
 * The event loop is measured without a timer instead: its utilization and lag at each scrape
 * (below), and how late jobs start (`sundial_fire_lag_seconds`).
 */
function registerProcessMetrics(registry: Registry): void {
  const require = createRequire(import.meta.url);
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === "eventLoopLag") continue;
    const register = require(`prom-client/lib/metrics/${name}`) as (
      registry: Registry,
      config: { prefix: string },
    ) => void;
    register(registry, { prefix: PROCESS_PREFIX });
  }
  let previous = performance.eventLoopUtilization();
  new Gauge({
    name: `${PROCESS_PREFIX}event_loop_utilization`,
    help: "Share of the time since the previous scrape that the event loop was busy (0 to 1)",
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, previous).utilization);
      previous = now;
    },
  });
  new Gauge({
    name: `${PROCESS_PREFIX}nodejs_eventloop_lag_seconds`,
    help: "Event-loop lag at scrape time: how long a setImmediate callback waited",
    registers: [registry],
    async collect() {
      const started = performance.now();
      await nextTurn();
      this.set((performance.now() - started) / 1000);
    },
  });
}

/**
 * `sundial_cost_usd_total{job,model}` and `sundial_tokens_total{job,model,kind}`, read from the
 * ledger's spend table at each scrape: the same numbers as `sundial costs`, kept across restarts
 * and run pruning (counters that only go up, as long as the ledger is kept).
 */
function registerSpendMetrics(registry: Registry, spend: () => Promise<SpendRow[]>): void {
  // Both metrics read one query per scrape (whichever collects first starts it; kept for a second).
  let cached: { at: number; totals: Promise<SpendRow[]> } | null = null;
  const totals = () => {
    if (!cached || performance.now() - cached.at > 1000)
      cached = { at: performance.now(), totals: spend().then(totalsByJobAndModel) };
    return cached.totals;
  };
  new Counter({
    name: "sundial_cost_usd_total",
    help: "What Claude cost in US dollars, by job and model",
    labelNames: ["job", "model"],
    registers: [registry],
    async collect() {
      const rows = await totals();
      this.reset();
      for (const { job, model, costUsd } of rows) this.inc({ job, model }, costUsd);
    },
  });
  new Counter({
    name: "sundial_tokens_total",
    help: "Claude tokens, by job, model and kind (input, output, cache_write, cache_read)",
    labelNames: ["job", "model", "kind"],
    registers: [registry],
    async collect() {
      const rows = await totals();
      this.reset();
      for (const { job, model, usage } of rows) {
        this.inc({ job, model, kind: "input" }, usage.inputTokens);
        this.inc({ job, model, kind: "output" }, usage.outputTokens);
        this.inc({ job, model, kind: "cache_write" }, usage.cacheWriteTokens);
        this.inc({ job, model, kind: "cache_read" }, usage.cacheReadTokens);
      }
    },
  });
}

function totalsByJobAndModel(rows: SpendRow[]): SpendRow[] {
  const totals = new Map<string, SpendRow>();
  for (const row of rows) {
    const key = JSON.stringify([row.job, row.model]);
    const total = totals.get(key);
    if (!total) {
      totals.set(key, { ...row, usage: { ...row.usage } });
      continue;
    }
    total.costUsd += row.costUsd;
    total.calls += row.calls;
    total.usage.inputTokens += row.usage.inputTokens;
    total.usage.outputTokens += row.usage.outputTokens;
    total.usage.cacheWriteTokens += row.usage.cacheWriteTokens;
    total.usage.cacheReadTokens += row.usage.cacheReadTokens;
  }
  return [...totals.values()];
}

export function createMetrics(runningNow: () => number = () => 0, spend?: () => Promise<SpendRow[]>) {
  const registry = new Registry();
  registerProcessMetrics(registry);
  const fires = new Counter({
    name: "sundial_fires_total",
    help: "Runs started by the scheduler",
    labelNames: ["job"],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: "sundial_runs_total",
    help: "Runs ended, by final status",
    labelNames: ["job", "status"],
    registers: [registry],
  });
  const lag = new Histogram({
    name: "sundial_fire_lag_seconds",
    help: "Start time minus scheduled time",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "sundial_run_duration_seconds",
    help: "Wall time of runs, by final status",
    labelNames: ["status"],
    buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [registry],
  });
  new Gauge({
    name: "sundial_runs_in_flight",
    help: "Runs executing now",
    registers: [registry],
    collect() {
      this.set(runningNow());
    },
  });
  const jobs = new Gauge({ name: "sundial_jobs", help: "Jobs by state", labelNames: ["state"], registers: [registry] });
  if (spend) registerSpendMetrics(registry, spend);
  return {
    registry,
    jobs,
    onFire(job: string, lagMs: number) {
      fires.inc({ job });
      lag.observe(Math.max(0, lagMs) / 1000);
    },
    onOutcome(job: string, status: string, durationMs: number) {
      outcomes.inc({ job, status });
      if (status !== "skipped") duration.observe({ status }, durationMs / 1000);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
