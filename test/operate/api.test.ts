/**
 * The operator API of a real daemon process: auth, every endpoint, validation, each 409 code,
 * cursor paging, cancel of a running run (its finished steps kept), and the event stream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Daemon, type Workspace } from "../helpers/workspace.ts";
import { apiClient, openEvents, TOKEN } from "./helpers.ts";

const quick = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "quick",
  description: "one step, one output",
  params: z.object({ word: z.string().default("hello") }),
  async run(ctx) {
    const word = await ctx.step("word", async () => ctx.params.word);
    return { title: "quick", markdown: word };
  },
});
`;

// One step done, then waits (listening to its signal) far longer than any test.
const slow = `
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "slow",
  description: "a first step, then a long wait",
  params: z.object({}),
  async run(ctx) {
    await ctx.step("first", async () => "done");
    await ctx.step("wait", () => sleep(120_000, undefined, { signal: ctx.signal }));
    return { title: "slow", markdown: "never" };
  },
});
`;

type Run = {
  id: number;
  job: string;
  status: string;
  reason: string | null;
  trigger: string;
  dryRun: boolean;
  steps?: { id: string; status: string }[];
};

let ws: Workspace;
let daemon: Daemon;
let api: ReturnType<typeof apiClient>;
const FINAL = ["succeeded", "failed", "timed_out", "skipped", "missed", "interrupted", "cancelled"];

async function finished(id: number): Promise<Run> {
  return waitFor(
    async () => {
      const { body } = await api<{ run: Run }>("GET", `/runs/${id}`);
      return FINAL.includes(body.run.status) ? body.run : null;
    },
    { timeoutMs: 30_000, what: `run #${id} to end` },
  );
}

beforeAll(async () => {
  ws = createWorkspace({
    skills: { quick, slow },
    schedules: {
      jobs: [
        {
          id: "quick",
          skill: "quick",
          cron: "0 0 1 1 *",
          catchUp: "none",
          deliver: [{ to: "file", path: "out/{job}-{time}.md" }],
        },
        { id: "slow", skill: "slow", cron: "0 0 1 1 *", catchUp: "none", overlap: "skip", timeout: "10m" },
      ],
    },
    env: { SUNDIAL_API_TOKEN: TOKEN },
  });
  daemon = await ws.start();
  api = apiClient(daemon.url);
}, 90_000);
afterAll(() => ws.cleanup());

describe("operator API", { timeout: 60_000 }, () => {
  it("needs the token: 401 without it and with a wrong one; /healthz and /metrics stay open", async () => {
    const bare = await fetch(`${daemon.url}/api/v1/jobs`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({
      error: { code: "unauthorized", message: expect.stringContaining("Authorization: Bearer") },
    });
    const wrong = await apiClient(daemon.url, "not-the-token")("GET", "/jobs");
    expect(wrong.status).toBe(401);
    expect((wrong.body as { error: { code: string } }).error.code).toBe("unauthorized");
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${daemon.url}/metrics`)).status).toBe(200);
    // The token is never logged.
    expect(daemon.lines.join("\n")).not.toContain(TOKEN);
  });

  it("lists jobs with paused and lastRun; one job; 404 for an unknown job", async () => {
    const { status, body } = await api<{ jobs: Record<string, unknown>[] }>("GET", "/jobs");
    expect(status).toBe(200);
    expect(body.jobs.map((job) => job.id)).toEqual(["quick", "slow"]);
    expect(body.jobs[0]).toMatchObject({
      skill: "quick",
      cron: "0 0 1 1 *",
      timezone: "UTC",
      enabled: true,
      disabledReason: null,
      paused: false,
      pausedReason: null,
    });
    expect((body.jobs[0]?.nextRuns as string[]).length).toBe(3);
    expect((await api("GET", "/jobs/quick")).body).toMatchObject({ job: { id: "quick" } });
    const missing = await api("GET", "/jobs/nope");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: "not_found", message: expect.stringContaining('"nope"') } });
  });

  it("runs a job now (202, trigger manual), with params; 400 on a bad body; 404 on an unknown job", async () => {
    const started = await api<{ run: Run }>("POST", "/jobs/quick/run", { params: { word: "bonjour" } });
    expect(started.status).toBe(202);
    expect(started.body.run).toMatchObject({ job: "quick", trigger: "manual", dryRun: false });
    const run = await finished(started.body.run.id);
    expect(run.status).toBe("succeeded");
    const { body } = await api<{ run: Run & { deliveries: { to: string; status: string }[]; delivery: string } }>(
      "GET",
      `/runs/${run.id}`,
    );
    expect(body.run.steps?.[0]).toMatchObject({ id: "word", status: "succeeded" });
    expect(body.run.deliveries).toEqual([
      { to: "file", url: expect.stringMatching(/^file:/), status: "succeeded", error: null },
    ]);
    expect(body.run.delivery).toBe("delivered");
    expect(
      JSON.parse(
        ws.query<{ result: string }>("SELECT result FROM steps WHERE run_id = ? AND step_id = 'word'", run.id)[0]
          ?.result ?? "null",
      ),
    ).toBe("bonjour");

    const dry = await api<{ run: Run }>("POST", "/jobs/quick/run", { dryRun: true });
    expect(dry.status).toBe(202);
    expect((await finished(dry.body.run.id)).reason).toMatch(/^dry run/);

    for (const bad of [{ dryRun: "yes" }, { unknown: 1 }, "{not json", { params: { word: 5 } }]) {
      const answer = await api<{ error: { code: string; message: string } }>("POST", "/jobs/quick/run", bad);
      expect(answer.status, JSON.stringify(bad)).toBe(400);
      expect(answer.body.error.code).toBe("invalid");
      expect(answer.body.error.message.length).toBeGreaterThan(5);
    }
    expect((await api("POST", "/jobs/nope/run", {})).status).toBe(404);
    expect((await api("GET", "/runs/999999")).status).toBe(404);
    expect((await api("GET", "/runs/abc")).status).toBe(400);
    expect((await api("GET", "/runs?limit=501")).status).toBe(400);
    expect((await api("GET", "/runs?status=done")).status).toBe(400);
  });

  it("pages runs newest first with a cursor, filtered by job and status", async () => {
    const ids: number[] = [];
    // One after another: the job's overlap policy ("skip") would refuse a run while one goes on.
    for (let i = 0; i < 5; i++) {
      const { body } = await api<{ run: Run }>("POST", "/jobs/quick/run", {});
      ids.push(body.run.id);
      await finished(body.run.id);
    }
    const seen: number[] = [];
    let before: number | null = null;
    do {
      const page: { status: number; body: { runs: Run[]; next: number | null } } = await api(
        "GET",
        `/runs?job=quick&status=succeeded&limit=2${before ? `&before=${before}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.runs.length).toBeLessThanOrEqual(2);
      for (const run of page.body.runs) expect(run).toMatchObject({ job: "quick", status: "succeeded" });
      seen.push(...page.body.runs.map((run) => run.id));
      before = page.body.next;
    } while (before !== null);
    const all = ws
      .query<{ id: number }>("SELECT id FROM runs WHERE job = 'quick' AND status = 'succeeded' ORDER BY id DESC")
      .map((row) => row.id);
    expect(seen).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(6);
  });

  it("cancels a running run through its signal: it ends cancelled with its finished step kept; then 409 finished", async () => {
    const events = await openEvents(daemon.url);
    expect(events.status).toBe(200);
    expect(events.contentType).toContain("text/event-stream");
    const started = await api<{ run: Run }>("POST", "/jobs/slow/run", {});
    expect(started.status).toBe(202);
    const id = started.body.run.id;
    await waitFor(() => ws.steps(id).some((step) => step.step_id === "wait"), { what: "the slow run to wait" });

    const overlap = await api<{ error: { code: string } }>("POST", "/jobs/slow/run", {});
    expect(overlap.status).toBe(409);
    expect(overlap.body.error.code).toBe("overlap");
    expect((await api("POST", `/runs/${id}/redeliver`, {})).status).toBe(409);

    const cancel = await api("POST", `/runs/${id}/cancel`);
    expect(cancel.status).toBe(202);
    const run = await finished(id);
    expect(run.status).toBe("cancelled");
    expect(ws.steps(id).find((step) => step.step_id === "first")?.status).toBe("succeeded");

    const again = await api<{ error: { code: string } }>("POST", `/runs/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("finished");
    const nothing = await api<{ error: { code: string } }>(
      "POST",
      `/runs/${(await api<{ runs: Run[] }>("GET", "/runs?job=quick&status=succeeded&limit=1")).body.runs[0]?.id}/redeliver`,
    );
    expect(nothing.status).toBe(409);
    expect(nothing.body.error.code).toBe("nothing_to_redeliver");

    // The stream told each state of the run: running, then cancelled.
    await waitFor(
      () => events.events.some((e) => e.event === "run" && e.data.id === id && e.data.status === "cancelled"),
      { what: "the cancelled event" },
    );
    const states = events.events.filter((e) => e.event === "run" && e.data.id === id).map((e) => e.data.status);
    expect(states[0]).toBe("running");
    await events.close();
  });

  it("pauses and resumes (idempotent, a new reason replaces the old) and streams job events", async () => {
    const events = await openEvents(daemon.url);
    const first = await api<{ job: Record<string, unknown> }>("POST", "/jobs/quick/pause", { reason: "first" });
    expect(first.status).toBe(200);
    const second = await api<{ job: Record<string, unknown> }>("POST", "/jobs/quick/pause", { reason: "maintenance" });
    expect(second.body.job).toMatchObject({ id: "quick", paused: true, pausedReason: "maintenance" });
    expect(ws.query("SELECT job, reason FROM job_pauses")).toEqual([{ job: "quick", reason: "maintenance" }]);
    // A manual run still works on a paused job.
    const manual = await api<{ run: Run }>("POST", "/jobs/quick/run", {});
    expect((await finished(manual.body.run.id)).status).toBe("succeeded");
    expect((await api("POST", "/jobs/quick/pause", { reason: 7 })).status).toBe(400);
    const resumed = await api<{ job: Record<string, unknown> }>("POST", "/jobs/quick/resume");
    expect(resumed.body.job).toMatchObject({ paused: false, pausedReason: null });
    expect((await api("POST", "/jobs/nope/pause", {})).status).toBe(404);
    await waitFor(() => events.events.filter((e) => e.event === "job").length >= 3, { what: "three job events" });
    expect(events.events.filter((e) => e.event === "job").map((e) => [e.data.id, e.data.paused])).toEqual([
      ["quick", true],
      ["quick", true],
      ["quick", false],
    ]);
    await events.close();
  });

  it("answers 409 not_held for a run carried by a foreground `sundial run`", async () => {
    // Killed by cleanup (afterAll): its rejection then is expected.
    ws.runCli(["run", "slow"], { SUNDIAL_API_TOKEN: TOKEN }, 90_000).catch(() => undefined);
    const row = await waitFor(
      () => ws.runs("slow").find((run) => run.status === "running" && run.trigger === "manual"),
      { timeoutMs: 45_000, what: "the foreground run" },
    );
    const answer = await api<{ error: { code: string } }>("POST", `/runs/${row.id}/cancel`);
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe("not_held");
  });
});
