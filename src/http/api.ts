/**
 * @module api — the operator API under `/api/v1/` (hono): the contract's endpoints over `Controls`,
 * bearer-token auth, every body and query checked with zod, errors as
 * `{"error": {"code", "message"}}`, and Server-Sent Events (`event: run`, `event: job`).
 */
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Logger } from "pino";
import { z } from "zod";
import { ControlError, type ControlErrorCode, type Controls } from "../control/types.ts";
import { MAX_PAGE, RUN_STATUSES } from "../control/controls.ts";
import { errorMessage } from "../errors.ts";
import { tokensEqual } from "./token.ts";

type ApiErrorCode = ControlErrorCode | "unauthorized" | "forbidden" | "internal";

const STATUS: Record<ApiErrorCode, 400 | 401 | 403 | 404 | 409 | 500> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  overlap: 409,
  finished: 409,
  not_held: 409,
  nothing_to_redeliver: 409,
  internal: 500,
};

export const apiError = (c: Context, code: ApiErrorCode, message: string) =>
  c.json({ error: { code, message } }, STATUS[code]);

const TriggerBody = z.strictObject({
  dryRun: z.boolean().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
const PauseBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });
const EmptyBody = z.strictObject({});
const RunsQuery = z.strictObject({
  job: z.string().min(1).optional(),
  status: z.enum(RUN_STATUSES as [string, ...string[]]).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
  before: z.coerce.number().int().min(1).optional(),
});

/** A zod failure as one line: where, and what is wrong. */
function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}

/** The JSON body checked against `schema`; an empty body counts as `{}`. */
async function body<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim()) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ControlError("invalid", "the body is not JSON; send a JSON object (or nothing)");
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ControlError("invalid", describe(parsed.error));
  return parsed.data;
}

function runId(c: Context): number {
  const raw = c.req.param("id") ?? "";
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1)
    throw new ControlError("invalid", `"${raw}" is not a run id; use the "id" of a run`);
  return id;
}

export interface ApiOptions {
  token: string;
  log: Logger;
  /** Keep-alive comment interval on event streams (proxies close silent connections). */
  heartbeatMs?: number;
}

/** The routes, relative to `/api/v1` (mount with `app.route("/api/v1", apiRoutes(…))`). */
export function apiRoutes(controls: Controls, options: ApiOptions): Hono {
  const api = new Hono();

  api.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match)
      return apiError(
        c,
        "unauthorized",
        "send the operator token as `Authorization: Bearer <token>` (SUNDIAL_API_TOKEN, or the file data/api-token)",
      );
    if (!tokensEqual(match[1] as string, options.token))
      return apiError(
        c,
        "unauthorized",
        "the token is not the operator token (SUNDIAL_API_TOKEN, or the file data/api-token)",
      );
    await next();
  });

  api.get("/jobs", async (c) => c.json({ jobs: await controls.listJobs() }));
  api.get("/jobs/:id", async (c) => {
    const job = await controls.getJob(c.req.param("id"));
    return job
      ? c.json({ job })
      : apiError(c, "not_found", `no job "${c.req.param("id")}" in schedules.json (see GET /api/v1/jobs)`);
  });
  api.post("/jobs/:id/run", async (c) => {
    const request = await body(c, TriggerBody);
    return c.json({ run: await controls.trigger(c.req.param("id"), request) }, 202);
  });
  api.post("/jobs/:id/pause", async (c) => {
    const { reason } = await body(c, PauseBody);
    return c.json({ job: await controls.pause(c.req.param("id"), reason) });
  });
  api.post("/jobs/:id/resume", async (c) => {
    await body(c, EmptyBody);
    return c.json({ job: await controls.resume(c.req.param("id")) });
  });

  api.get("/runs", async (c) => {
    const parsed = RunsQuery.safeParse(c.req.query());
    if (!parsed.success) throw new ControlError("invalid", describe(parsed.error));
    return c.json(await controls.listRuns(parsed.data));
  });
  api.get("/runs/:id", async (c) => {
    const id = runId(c);
    const run = await controls.getRun(id);
    return run ? c.json({ run }) : apiError(c, "not_found", `no run #${id} in the ledger (see GET /api/v1/runs)`);
  });
  api.post("/runs/:id/cancel", async (c) => {
    const id = runId(c);
    await body(c, EmptyBody);
    await controls.cancel(id);
    return c.json({ run: await controls.getRun(id) }, 202);
  });
  api.post("/runs/:id/redeliver", async (c) => {
    const id = runId(c);
    await body(c, EmptyBody);
    await controls.redeliver(id);
    return c.json({ run: await controls.getRun(id) }, 202);
  });

  api.get("/events", (c) =>
    streamSSE(c, async (stream) => {
      const queue: { event: string; data: string }[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = controls.subscribe((event) => {
        queue.push({ event: event.type, data: JSON.stringify(event.type === "run" ? event.run : event.job) });
        wake?.();
      });
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      try {
        await stream.write(": connected\n\n");
        while (open) {
          const next = queue.shift();
          if (next) await stream.writeSSE(next);
          else {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, options.heartbeatMs ?? 15_000).unref();
            });
            wake = null;
            if (open && !queue.length) await stream.write(": keep-alive\n\n");
          }
        }
      } finally {
        unsubscribe();
      }
    }),
  );

  api.notFound((c) =>
    apiError(c, "not_found", `no API endpoint ${c.req.method} ${c.req.path}; see README "Operating a running daemon"`),
  );
  api.onError((error, c) => {
    if (error instanceof ControlError) return apiError(c, error.code, error.message);
    options.log.error({ err: errorMessage(error), path: c.req.path }, "API request failed");
    return apiError(c, "internal", "the daemon could not answer; its log says why");
  });
  return api;
}
