/**
 * What a running daemon shows the outside: /healthz, /metrics counting the fires, and the CLI's
 * `runs --json` and `show <id> --json` documents with the contract's fields.
 */
import { describe, expect as globalExpect, it } from "vitest";
import { createWorkspace, waitFor } from "../helpers/workspace.ts";

const tick = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "tick",
  description: "one step, one output",
  params: z.object({}),
  async run(ctx) {
    const when = await ctx.step("stamp", async () => ctx.run.scheduledFor);
    return { title: "tick " + when, markdown: "tick" };
  },
});
`;

/** The value of one sample (`name{labels} value`) in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const iso = globalExpect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

// Side by side (each with its context's expect and hooks): most of their time is process start-up.
describe.concurrent("status server and CLI views of a running daemon", () => {
  it("serves /healthz and /metrics that count the fires", { timeout: 90_000 }, async ({ expect, onTestFinished }) => {
    const w = createWorkspace({
      skills: { tick },
      schedules: { jobs: [{ id: "tick", skill: "tick", cron: "* * * * * *" }] },
    });
    onTestFinished(() => w.cleanup());
    const daemon = await w.start();
    expect(daemon.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitFor(() => w.runs("tick").filter((run) => run.status === "succeeded").length >= 3, {
      timeoutMs: 30_000,
      what: "three runs",
    });

    const health = await fetch(`${daemon.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toContain("application/json");
    expect(await health.json()).toMatchObject({
      status: "ok",
      checks: {
        scheduler: { status: "ok" },
        ledger: { status: "ok" },
        config: { status: "ok" },
        jobs: { status: "ok", enabled: 1, disabled: [] },
        overdue: { status: "ok", jobs: [] },
        discord: { status: "not configured" },
        nodes: { status: "ok", nodes: [{ pid: daemon.pid }] },
      },
    });

    const scrape = async () => {
      const response = await fetch(`${daemon.url}/metrics`);
      expect(response.status).toBe(200);
      return response.text();
    };
    const text = await scrape();
    const fired = w.runs("tick").filter((run) => run.started_at !== null).length;
    const later = await scrape();
    for (const name of [
      "sundial_fires_total",
      "sundial_runs_total",
      "sundial_fire_lag_seconds",
      "sundial_run_duration_seconds",
    ])
      expect(text).toContain(`# TYPE ${name} `);
    // A row is written before its fire is counted: the ledger read in between is bracketed by the two scrapes.
    const fires = sample(text, 'sundial_fires_total{job="tick"}') as number;
    expect(fires).toBeGreaterThanOrEqual(3);
    expect(fires).toBeLessThanOrEqual(fired);
    expect(sample(later, 'sundial_fires_total{job="tick"}')).toBeGreaterThanOrEqual(fired);
    expect(sample(text, "sundial_fire_lag_seconds_count")).toBe(fires);
    expect(sample(text, 'sundial_runs_total{job="tick",status="succeeded"}')).toBeGreaterThanOrEqual(fires - 1);
    expect(sample(text, 'sundial_run_duration_seconds_count{status="succeeded"}')).toBeGreaterThanOrEqual(fires - 1);
    expect((await fetch(`${daemon.url}/nope`)).status).toBe(404);
    expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it(
    "prints `runs --json` and `show <id> --json` as single JSON documents with the contract's fields",
    { timeout: 90_000 },
    async ({ expect, onTestFinished }) => {
      const w = createWorkspace({
        skills: { tick },
        schedules: {
          jobs: [
            { id: "tick", skill: "tick", cron: "* * * * * *", deliver: [{ to: "file", path: "out/{job}-{time}.md" }] },
          ],
        },
      });
      onTestFinished(() => w.cleanup());
      await w.start();
      const finished = await waitFor(() => w.runs("tick").filter((run) => run.status === "succeeded")[1], {
        timeoutMs: 30_000,
        what: "two runs",
      });

      // The CLI starts slowly on a loaded machine: the three commands run side by side.
      const [listed, shown, missing] = await Promise.all([
        w.runCli(["runs", "--json", "--limit", "50"]),
        w.runCli(["show", String(finished.id), "--json"]),
        w.runCli(["show", "999999", "--json"]),
      ]);
      expect(listed.code, listed.stderr).toBe(0);
      const { runs } = JSON.parse(listed.stdout) as { runs: Record<string, unknown>[] };
      expect(runs.length).toBeGreaterThanOrEqual(2);
      expect((runs[0]?.id as number) > (runs[1]?.id as number)).toBe(true); // newest first
      const done = runs.find((run) => run.id === finished.id);
      expect(done).toEqual(
        globalExpect.objectContaining({
          id: globalExpect.any(Number),
          job: "tick",
          skill: "tick",
          trigger: "schedule",
          status: "succeeded",
          reason: null,
          scheduledFor: iso,
          startedAt: iso,
          finishedAt: iso,
          attempt: 1,
          error: null,
          usage: { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0 },
          costUsd: 0,
          deliveries: [
            {
              to: "file",
              url: globalExpect.stringMatching(/^file:\/\/.*\/data\/deliveries\/out\/tick-\d{6}\.md$/),
              status: "succeeded",
              error: null,
            },
          ],
          delivery: "delivered",
        }),
      );

      expect(shown.code, shown.stderr).toBe(0);
      const run = JSON.parse(shown.stdout) as Record<string, unknown>;
      expect(run).toMatchObject({ ...done });
      expect(run.steps).toEqual([
        globalExpect.objectContaining({ id: "stamp", status: "succeeded", startedAt: iso, finishedAt: iso }),
        globalExpect.objectContaining({
          id: globalExpect.stringMatching(/^deliver:/),
          status: "succeeded",
          startedAt: iso,
          finishedAt: iso,
        }),
      ]);

      expect(missing.code).toBe(2);
      expect(missing.stdout).toBe("");
    },
  );
});
