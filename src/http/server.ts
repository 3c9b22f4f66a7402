/**
 * @module server — the daemon's HTTP server (hono on Node's http): `GET /healthz` (200 while the
 * scheduler loop is alive and the ledger writable, else 503, with a JSON body saying which),
 * `GET /metrics`, and whatever routes are mounted beside them (the operator API, the dashboard).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { errorMessage } from "../errors.ts";
import type { Metrics } from "./metrics.ts";

export interface HealthProbe {
  schedulerAlive(): boolean;
  /** Resolves when a write to the ledger succeeded. */
  ledgerWritable(): Promise<void>;
  details(): Record<string, unknown>;
}

/** Adds routes to the server's app (the API under /api/v1, the dashboard at /). */
export type MountRoutes = (app: Hono) => void;

async function healthBody(health: HealthProbe): Promise<{ ok: boolean; body: Record<string, unknown> }> {
  const scheduler = health.schedulerAlive();
  let ledger: true | string = true;
  try {
    await health.ledgerWritable();
  } catch (error) {
    ledger = errorMessage(error);
  }
  const ok = scheduler && ledger === true;
  return { ok, body: { status: ok ? "ok" : "unhealthy", scheduler: scheduler ? "alive" : "stopped", ledger: ledger === true ? "writable" : `not writable: ${ledger}`, ...health.details() } };
}

export async function startStatusServer(options: { host: string; port: number; health: HealthProbe; metrics: Metrics; routes?: MountRoutes[] }): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const app = new Hono();
  app.get("/healthz", async (c) => {
    const { ok, body } = await healthBody(options.health);
    return c.json(body, ok ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    try {
      return c.body(await options.metrics.registry.metrics(), 200, { "content-type": options.metrics.registry.contentType });
    } catch (error) {
      return c.text(errorMessage(error), 500);
    }
  });
  app.all("/healthz", (c) => c.body(null, 405, { allow: "GET" }));
  app.all("/metrics", (c) => c.body(null, 405, { allow: "GET" }));
  for (const mount of options.routes ?? []) mount(app);
  app.notFound((c) => c.json({ error: { code: "not_found", message: `nothing at ${c.req.method} ${c.req.path}; try /healthz, /metrics or /api/v1/jobs` } }, 404));

  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(started as Server));
    started.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams never end on their own; a stopping daemon ends them.
        server.closeAllConnections();
      }),
  };
}
