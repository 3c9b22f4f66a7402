/**
 * @module server — the daemon's HTTP server (hono on Node's http): `GET /healthz` (see ./health.ts:
 * 200 for ok and degraded, 503 for down), `GET /metrics`, and whatever routes are mounted beside
 * them (the operator API, the dashboard). It is bounded: headers must arrive within seconds (a
 * slow-loris connection is closed), a request within a time limit, idle keep-alive connections are
 * closed soon, and a flood of connections sheds its oldest idle ones instead of locking out the
 * health check.
 */
import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { errorMessage } from "../errors.ts";
import type { HealthBody } from "./health.ts";
import type { Metrics } from "./metrics.ts";

/** Adds routes to the server's app (the API under /api/v1, the dashboard at /). */
export type MountRoutes = (app: Hono) => void;

export interface ServerLimits {
  /** Open connections kept; past it, the oldest idle one is closed for each new one. */
  connections: number;
  /** Hard cap (server.maxConnections): new connections are refused while this many are busy. */
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderSize: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  connections: 64,
  maxConnections: 256,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 16_384,
};

export async function startStatusServer(options: {
  host: string;
  port: number;
  health: () => Promise<HealthBody>;
  metrics: Metrics;
  routes?: MountRoutes[];
  limits?: Partial<ServerLimits>;
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const app = new Hono();
  app.get("/healthz", async (c) => {
    try {
      const body = await options.health();
      return c.json(body, body.status === "down" ? 503 : 200);
    } catch (error) {
      return c.json({ status: "down", checks: {}, error: errorMessage(error) }, 503);
    }
  });
  app.get("/metrics", async (c) => {
    try {
      return c.body(await options.metrics.registry.metrics(), 200, {
        "content-type": options.metrics.registry.contentType,
      });
    } catch (error) {
      return c.text(errorMessage(error), 500);
    }
  });
  app.all("/healthz", (c) => c.body(null, 405, { allow: "GET" }));
  app.all("/metrics", (c) => c.body(null, 405, { allow: "GET" }));
  for (const mount of options.routes ?? []) mount(app);
  app.notFound((c) =>
    c.json(
      {
        error: {
          code: "not_found",
          message: `nothing at ${c.req.method} ${c.req.path}; try /healthz, /metrics or /api/v1/jobs`,
        },
      },
      404,
    ),
  );

  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve(
      {
        fetch: app.fetch,
        port: options.port,
        hostname: options.host,
        serverOptions: {
          maxHeaderSize: limits.maxHeaderSize,
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          // How often Node looks for connections past headersTimeout/requestTimeout (default 30 s).
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
        },
      },
      () => resolve(started as Server),
    );
    started.once("error", reject);
  });
  server.maxConnections = limits.maxConnections;
  shedIdleConnections(server, limits.connections);
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

/**
 * Keeps at most `limit` connections: a new one past it closes the oldest connection with no
 * request in progress (one that never sent a request, or an idle keep-alive one). Without it a
 * client holding many idle sockets would keep /healthz out until the timeouts reap them.
 */
function shedIdleConnections(server: Server, limit: number): void {
  const open = new Set<Socket>(); // in connection order
  const busy = new WeakSet<Socket>();
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    if (open.size <= limit) return;
    for (const oldest of open) {
      if (oldest !== socket && !busy.has(oldest)) {
        open.delete(oldest);
        oldest.destroy();
        break;
      }
    }
  });
  server.on("request", (request, response) => {
    busy.add(request.socket);
    response.once("close", () => busy.delete(request.socket));
  });
}
