/**
 * @module client — how CLI controls reach the running daemon: its address from
 * `<data dir>/daemon.json` (else SUNDIAL_HTTP_HOST:SUNDIAL_HTTP_PORT), the token from
 * SUNDIAL_API_TOKEN or `<data dir>/api-token`. Every failure is a UsageError (exit 2) that says
 * what to do.
 */
import type { App } from "../app.ts";
import { httpAddress } from "../config/env.ts";
import { readDaemonFile } from "../daemon/daemon-file.ts";
import { readToken, tokenFile } from "../http/token.ts";
import { UsageError } from "../errors.ts";

export interface DaemonClient {
  url: string;
  request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T>;
}

export function daemonClient(app: App): DaemonClient {
  const fromFile = readDaemonFile(app.paths.dataDir);
  let url = fromFile?.url;
  if (!url) {
    const { host, port } = httpAddress(app.env);
    url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }
  const base = url;
  const token = readToken(app.env, app.paths.dataDir);
  return {
    url: base,
    async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
      if (!token)
        throw new UsageError(
          `no operator token: set SUNDIAL_API_TOKEN or start the daemon once (it writes ${tokenFile(app.paths.dataDir)})`,
        );
      let response: Response;
      try {
        response = await fetch(`${base}/api/v1${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch {
        throw new UsageError(
          `no Sundial daemon answers at ${base} (start it with \`npm start\`, or set SUNDIAL_HTTP_HOST/SUNDIAL_HTTP_PORT)`,
        );
      }
      const text = await response.text();
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new UsageError(`${base} answered ${response.status} without JSON; is it a Sundial daemon?`);
      }
      if (!response.ok) {
        const error = (value as { error?: { code?: string; message?: string } }).error;
        throw new UsageError(
          `${error?.message ?? `the daemon answered ${response.status}`}${error?.code ? ` (${error.code})` : ""}`,
        );
      }
      return value as T;
    },
  };
}
