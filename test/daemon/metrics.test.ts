/**
 * The process metrics of `createMetrics` (src/http/metrics.ts): prom-client's defaults, without the
 * event-loop delay sampler (a timer that would wake an idle daemon twice a second), and the event
 * loop measured at scrape time instead.
 */
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/http/metrics.ts";

const sample = (text: string, name: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe("process metrics", () => {
  it("are prom-client's defaults but the event-loop delay histogram, plus utilization and lag at scrape time", async () => {
    const metrics = createMetrics();
    const blockFor = (ms: number) => {
      for (const started = performance.now(); performance.now() - started < ms;);
    };
    blockFor(50);
    const text = await metrics.registry.metrics();

    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_open_fds",
      "nodejs_heap_size_used_bytes",
      "nodejs_version_info",
      "nodejs_gc_duration_seconds",
    ]) {
      expect(text).toContain(`# TYPE sundial_process_${name} `);
    }
    expect(sample(text, "sundial_process_process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(text).not.toMatch(/eventloop_lag_(p50|p90|p99|mean|min|max|stddev)_seconds/);

    const utilization = sample(text, "sundial_process_event_loop_utilization") as number;
    expect(utilization).toBeGreaterThan(0.5);
    expect(utilization).toBeLessThanOrEqual(1);
    const lag = sample(text, "sundial_process_nodejs_eventloop_lag_seconds") as number;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(1);
    // The lag is measured, not a constant: a loop blocked while a scrape waits shows as lag.
    const pending = metrics.registry.metrics();
    blockFor(80);
    expect(sample(await pending, "sundial_process_nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0.07);
    await metrics.registry.metrics(); // starts a new utilization window after the block

    // Idle between two scrapes: the loop was mostly waiting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sample(await metrics.registry.metrics(), "sundial_process_event_loop_utilization")).toBeLessThan(0.5);
  });
});
