/**
 * @module metrics — the daemon's Prometheus metrics: fires, outcomes by status, fire lag and run
 * duration. One registry per daemon (no global default registry a test would have to reset).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export function createMetrics(runningNow: () => number = () => 0) {
  const registry = new Registry();
  // The event-loop delay sampler's default 10 ms timer alone costs an idle daemon ~1% of a core.
  collectDefaultMetrics({ register: registry, prefix: "sundial_process_", eventLoopMonitoringPrecision: 500 });
  const fires = new Counter({ name: "sundial_fires_total", help: "Runs started by the scheduler", labelNames: ["job"], registers: [registry] });
  const outcomes = new Counter({ name: "sundial_runs_total", help: "Runs ended, by final status", labelNames: ["job", "status"], registers: [registry] });
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
