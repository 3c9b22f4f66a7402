/**
 * @module server — the health and status server: `GET /healthz` (see ./health.ts: 200 for ok and
 * degraded, 503 for down) and `GET /metrics`. It is small on purpose and bounded: headers must
 * arrive within seconds (a slow-loris connection is closed), a request within a time limit, idle
 * keep-alive connections are closed soon, and a flood of connections sheds its oldest idle ones
 * instead of locking out the health check.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { errorMessage } from "../errors.ts";
import type { HealthBody } from "./health.ts";
import type { Metrics } from "./metrics.ts";

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

export async function startStatusServer(options: { host: string; port: number; health: () => Promise<HealthBody>; metrics: Metrics; limits?: Partial<ServerLimits> }): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for connections past headersTimeout/requestTimeout (default 30 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (request, response) => {
      const path = (request.url ?? "/").split("?")[0];
      if (request.method !== "GET") {
        response.writeHead(405, { allow: "GET" }).end();
        return;
      }
      if (path === "/healthz") {
        options.health().then(
          (body) => response.writeHead(body.status === "down" ? 503 : 200, { "content-type": "application/json" }).end(JSON.stringify(body)),
          (error: unknown) => response.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ status: "down", checks: {}, error: errorMessage(error) })),
        );
        return;
      }
      if (path === "/metrics") {
        options.metrics.registry.metrics().then(
          (text) => response.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(text),
          (error: unknown) => response.writeHead(500).end(errorMessage(error)),
        );
        return;
      }
      response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found; try /healthz or /metrics" }));
    },
  );
  server.maxConnections = limits.maxConnections;
  shedIdleConnections(server, limits.connections);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
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
