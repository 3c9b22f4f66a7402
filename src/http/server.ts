/**
 * @module server — the health and status server: `GET /healthz` (200 while the scheduler loop is
 * alive and the ledger writable, else 503, with a JSON body saying which) and `GET /metrics`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage } from "../errors.ts";
import type { Metrics } from "./metrics.ts";

export interface HealthProbe {
  schedulerAlive(): boolean;
  /** Resolves when a write to the ledger succeeded. */
  ledgerWritable(): Promise<void>;
  details(): Record<string, unknown>;
}

export async function startStatusServer(options: { host: string; port: number; health: HealthProbe; metrics: Metrics }): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405, { allow: "GET" }).end();
      return;
    }
    if (path === "/healthz") {
      void (async () => {
        const scheduler = options.health.schedulerAlive();
        let ledger: true | string = true;
        try {
          await options.health.ledgerWritable();
        } catch (error) {
          ledger = errorMessage(error);
        }
        const ok = scheduler && ledger === true;
        const body = { status: ok ? "ok" : "unhealthy", scheduler: scheduler ? "alive" : "stopped", ledger: ledger === true ? "writable" : `not writable: ${ledger}`, ...options.health.details() };
        response.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(body));
      })();
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
