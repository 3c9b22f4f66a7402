/**
 * @module test/helpers/dashboard — a seeded ledger and the dashboard served by a real hono Node
 * server on loopback, for browser tests: a month of runs with costs, a failure streak, a run with
 * parallel steps and deliveries (one failed), a running run, and a hostile run whose error,
 * step error, reason and delivery carry markup and a `javascript:` link.
 */
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { dashboardRoutes } from "../../src/http/dashboard/index.ts";
import type { RunStore } from "../../src/ledger/store.ts";
import { tempStore } from "./ledger.ts";
import { storeControls, type JobSpec, type StoreControls } from "./store-controls.ts";

export const HOSTILE = `<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))`;
export const TOKEN = "test-operator-token-0123456789";

export const JOBS: JobSpec[] = [
  { id: "daily-digest", skill: "data-digest", cron: "0 8 * * 1-5", timezone: "Europe/Paris", enabled: true },
  { id: "blog", skill: "blog-autopilot", cron: "30 6 * * *", timezone: "America/New_York", enabled: true },
  {
    id: "weekly-report",
    skill: "data-digest",
    cron: "0 9 * * 1",
    timezone: "UTC",
    enabled: false,
    disabledReason: `jobs[2]: job "weekly-report" needs the environment variable GITHUB_TOKEN, which is not set`,
  },
];

const owner = { pid: process.pid, instance: "seed" };
const SEC = 1000;

async function run(
  store: RunStore,
  job: string,
  skill: string,
  at: number,
  finish: { status: "succeeded" | "failed"; error?: string; reason?: string } | null,
  steps: [string, number, number, string | null][] = [],
  cost = 0,
) {
  const [claim] = await store.claimRuns(
    [{ job, skill, scheduledFor: at, trigger: "schedule", overlap: "allow" }],
    owner,
    at,
  );
  if (!claim || claim.runId === null) throw new Error("seed claim failed");
  const id = claim.runId;
  for (const [step, from, to, error] of steps) {
    await store.startStep(id, step, at + from);
    if (error) await store.failStep(id, step, error, at + to);
    else await store.finishStep(id, step, { ok: true }, at + to);
  }
  if (cost)
    await store.addUsage(
      id,
      null,
      { inputTokens: 3100, outputTokens: 850, cacheReadTokens: 2900, cacheWriteTokens: 0 },
      cost,
    );
  if (finish)
    await store.finishRun(
      id,
      { status: finish.status, error: finish.error ?? null, reason: finish.reason ?? null },
      at + (steps.at(-1)?.[2] ?? 2 * SEC) + 100,
    );
  return id;
}

export interface Seeded {
  parallelRun: number;
  hostileRun: number;
  runningRun: number;
}

export async function seed(store: RunStore, now: number, hostile = true): Promise<Seeded> {
  const day = 86_400_000;
  for (let d = 20; d >= 1; d--) {
    await run(
      store,
      "daily-digest",
      "data-digest",
      now - d * day,
      { status: "succeeded" },
      [
        ["gather", 20, 900, null],
        ["digest", 900, 2400, null],
      ],
      0.012 + (d % 5) * 0.004,
    );
    if (d > 2)
      await run(
        store,
        "blog",
        "blog-autopilot",
        now - d * day + 3600_000,
        { status: "succeeded" },
        [["plan", 10, 500, null]],
        0.05 + (d % 7) * 0.01,
      );
  }
  const parallelRun = await run(
    store,
    "blog",
    "blog-autopilot",
    now - 30 * 3600_000,
    { status: "succeeded" },
    [
      ["fetch-transcripts", 0, 1200, null],
      ["write:intro-to-sqlite", 1300, 5200, null],
      ["write:cron-in-practice", 1400, 4800, null],
      ["write:timezones", 1500, 6100, null],
      ["deliver:0:0:discord", 6200, 6600, null],
      ["deliver:0:1:github-pr", 6600, 7400, "GitHub: 502 bad gateway"],
    ],
    0.21,
  );
  await store.addDelivery(parallelRun, { to: "discord", url: "https://discord.com/channels/1/2/3" });
  await run(
    store,
    "blog",
    "blog-autopilot",
    now - 26 * 3600_000,
    { status: "failed", error: "Claude: 529 overloaded_error (after 3 attempts)" },
    [["plan", 10, 800, "529 overloaded"]],
    0.01,
  );
  await run(
    store,
    "blog",
    "blog-autopilot",
    now - 5 * 3600_000,
    { status: "failed", error: "Claude: 529 overloaded_error (after 3 attempts)" },
    [["plan", 10, 900, "529 overloaded"]],
    0.01,
  );
  const hostileRun = hostile
    ? await run(
        store,
        "daily-digest",
        "data-digest",
        now - 2 * 3600_000,
        { status: "failed", error: HOSTILE, reason: HOSTILE },
        [["summarise", 10, 900, HOSTILE]],
        0.02,
      )
    : 0;
  if (hostile) await store.addDelivery(hostileRun, { to: "discord", url: "javascript:alert(1)" });
  const runningRun = await run(store, "daily-digest", "data-digest", now - 20 * SEC, null, [
    ["gather", 100, 4000, null],
  ]);
  return { parallelRun, hostileRun, runningRun };
}

export interface DashboardServer {
  url: string;
  controls: StoreControls;
  seeded: Seeded;
  close(): Promise<void>;
}

/** The dashboard mounted at `/` of a parent app (as the daemon mounts it), on 127.0.0.1. */
export async function startDashboard(
  options: { jobs?: JobSpec[]; seedRuns?: boolean; hostile?: boolean } = {},
): Promise<DashboardServer> {
  const temp = tempStore();
  const now = Date.now();
  const seeded =
    options.seedRuns === false
      ? { parallelRun: 0, hostileRun: 0, runningRun: 0 }
      : await seed(temp.store, now, options.hostile ?? true);
  // Manual runs stay running until the test calls controls.finishPending().
  const controls = storeControls(temp.store, options.jobs ?? JOBS, { runMs: null });
  const root = new Hono();
  root.get("/healthz", (c) => c.json({ status: "ok" }));
  root.route(
    "/",
    dashboardRoutes({
      controls,
      token: TOKEN,
      health: async () => ({
        status: "ok",
        scheduler: "alive",
        ledger: "writable",
        jobs: (options.jobs ?? JOBS).length,
      }),
    }),
  );
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: root.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    controls,
    seeded,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      controls.close();
      temp.cleanup();
    },
  };
}
