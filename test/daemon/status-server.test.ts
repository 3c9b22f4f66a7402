/**
 * @module status-server.test — the status server's bounds and health codes (src/http/server.ts,
 * src/http/health.ts): a slow-loris connection is closed, a flood of idle connections cannot keep
 * /healthz out, oversized headers are refused, and the health body maps to 200/200/503.
 */
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { cachedProbe, healthOf, type HealthSources } from "../../src/http/health.ts";
import { createMetrics } from "../../src/http/metrics.ts";
import { DEFAULT_LIMITS, startStatusServer, type ServerLimits } from "../../src/http/server.ts";
import type { Configuration } from "../../src/config/types.ts";

const configuration = (jobs: Partial<Configuration["jobs"][number]>[] = [], fileValid = true): Configuration => ({
  settings: { maxConcurrentRuns: 1, retentionMs: 1, shutdownGraceMs: 1, alerts: [] },
  jobs: jobs as Configuration["jobs"],
  problems: [],
  fileValid,
});

const sources = (extra: Partial<HealthSources> = {}): HealthSources => ({
  scheduler: () => ({ alive: true, running: 0 }),
  ledger: async () => undefined,
  configuration: () => configuration([{ id: "a", enabled: true, disabledReason: null }]),
  rejected: () => null,
  overdue: () => [],
  node: { pid: 1, instance: "i", hostname: "h", startedAt: 0 },
  now: Date.now,
  ...extra,
});

const closers: (() => Promise<void>)[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const close of closers.splice(0)) await close();
});

async function serve(health: HealthSources, limits?: Partial<ServerLimits>) {
  const server = await startStatusServer({
    host: "127.0.0.1",
    port: 0,
    health: () => healthOf(health),
    metrics: createMetrics(),
    limits,
  });
  closers.push(server.close);
  return server;
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket)).on("error", reject);
    sockets.push(socket);
  });
}

const closed = (socket: Socket) =>
  new Promise<number>((resolve) => {
    const started = Date.now();
    socket.on("error", () => undefined).once("close", () => resolve(Date.now() - started));
  });

describe("the status server", () => {
  it(
    "closes a slow-loris connection (headers trickling in) once the headers timeout is over",
    { timeout: 20_000 },
    async () => {
      expect(DEFAULT_LIMITS.headersTimeoutMs).toBeLessThanOrEqual(10_000);
      const server = await serve(sources(), { headersTimeoutMs: 1000 });
      const socket = await open(server.url);
      const ended = closed(socket);
      socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
      const trickle = setInterval(() => socket.writable && socket.write("X"), 100);
      try {
        // Node's default (60 s, checked every 30 s) would keep it open far longer.
        expect(
          await Promise.race([ended, new Promise((r) => setTimeout(() => r("still open after 5 s"), 5000))]),
        ).toBeLessThan(5000);
      } finally {
        clearInterval(trickle);
      }
    },
  );

  it(
    "answers /healthz during a flood of idle connections, shedding the oldest idle ones",
    { timeout: 20_000 },
    async () => {
      const server = await serve(sources(), { connections: 20 });
      const flood = await Promise.all(Array.from({ length: 100 }, () => open(server.url)));
      const shed = flood.map(closed);
      const started = Date.now();
      const response = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
      const count = await new Promise<number>((resolve, reject) =>
        server.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
      );
      expect(count).toBeLessThanOrEqual(21);
      expect(
        (await Promise.race([Promise.all(shed.slice(0, 70)), new Promise((r) => setTimeout(() => r(null), 2000))])) !==
          null,
      ).toBe(true);
      expect(server.server.maxConnections).toBe(DEFAULT_LIMITS.maxConnections);
    },
  );

  it("refuses headers over the size limit with 431", async () => {
    const server = await serve(sources(), { maxHeaderSize: 2048 });
    const response = await fetch(`${server.url}/healthz`, { headers: { "x-big": "a".repeat(4096) } });
    expect(response.status).toBe(431);
  });

  it("answers 200 ok, 200 degraded (a job disabled by a problem, the checks saying why) and 503 down (ledger not working)", async () => {
    const ok = await serve(sources());
    const okResponse = await fetch(`${ok.url}/healthz`);
    expect(okResponse.status).toBe(200);
    const okBody = (await okResponse.json()) as { status: string; checks: Record<string, { status: string }> };
    expect(okBody.status).toBe("ok");
    expect(Object.keys(okBody.checks).sort()).toEqual([
      "config",
      "discord",
      "jobs",
      "ledger",
      "nodes",
      "overdue",
      "scheduler",
    ]);

    const broken = configuration([
      { id: "a", enabled: true, disabledReason: null },
      { id: "b", enabled: false, disabledReason: "jobs[1].cron: invalid cron pattern", disabledBy: "problem" },
      { id: "c", enabled: false, disabledReason: "disabled in schedules.json", disabledBy: "file" },
    ]);
    const degraded = await serve(sources({ configuration: () => broken }));
    const degradedResponse = await fetch(`${degraded.url}/healthz`);
    expect(degradedResponse.status).toBe(200);
    expect(await degradedResponse.json()).toMatchObject({
      status: "degraded",
      checks: {
        jobs: { status: "degraded", enabled: 1, disabled: [{ id: "b", reason: "jobs[1].cron: invalid cron pattern" }] },
        config: { status: "ok" },
      },
    });

    const invalid = await serve(sources({ configuration: () => configuration([], false) }));
    expect(await (await fetch(`${invalid.url}/healthz`)).json()).toMatchObject({
      status: "degraded",
      checks: { config: { status: "degraded" } },
    });

    const down = await serve(sources({ ledger: async () => Promise.reject(new Error("disk I/O error")) }));
    const downResponse = await fetch(`${down.url}/healthz`);
    expect(downResponse.status).toBe(503);
    expect(await downResponse.json()).toMatchObject({
      status: "down",
      checks: { ledger: { status: "down", message: expect.stringContaining("disk I/O error") } },
    });

    const stopped = await serve(sources({ scheduler: () => ({ alive: false, running: 0 }) }));
    expect((await fetch(`${stopped.url}/healthz`)).status).toBe(503);
  });

  it("probes the ledger at most once per window while it works, and again soon after a failure", async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const probe = cachedProbe(
      async () => {
        calls++;
        if (fail) throw new Error("busy");
      },
      () => now,
      30_000,
      2_000,
    );
    for (let i = 0; i < 5; i++) await probe();
    expect(calls).toBe(1);
    now = 30_000;
    fail = true;
    await expect(probe()).rejects.toThrow("busy");
    expect(calls).toBe(2);
    now = 31_000;
    await expect(probe()).rejects.toThrow("busy");
    expect(calls).toBe(2);
    now = 32_001;
    fail = false;
    await probe();
    expect(calls).toBe(3);
  });
});
