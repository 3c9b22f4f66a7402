/**
 * The CLI controls against a real daemon: they find it through data/daemon.json and the token
 * file, print what they did, and exit 0 / 1 (trigger --wait on a failed run) / 2 (usage, not
 * found, conflict, no daemon). `list` shows a pause from the ledger, with or without a daemon.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Daemon, type Workspace } from "../helpers/workspace.ts";

const quick = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "quick",
  description: "one output",
  params: z.object({}),
  async run() {
    return { title: "quick", markdown: "quick" };
  },
});
`;
const boom = `
import { defineSkill, NonRetryableError, z } from "sundial";
export default defineSkill({
  name: "boom",
  description: "always fails",
  params: z.object({}),
  async run() {
    throw new NonRetryableError("boom");
  },
});
`;
const slow = `
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "slow",
  description: "waits",
  params: z.object({}),
  async run(ctx) {
    await ctx.step("wait", () => sleep(120_000, undefined, { signal: ctx.signal }));
  },
});
`;

let ws: Workspace;
let daemon: Daemon;
beforeAll(async () => {
  const job = (id: string) => ({ id, skill: id, cron: "0 0 1 1 *", catchUp: "none", retries: 0 });
  ws = createWorkspace({
    skills: { quick, boom, slow },
    schedules: { jobs: [job("quick"), job("boom"), job("slow")] },
  });
  daemon = await ws.start();
}, 90_000);
afterAll(() => ws.cleanup());

describe("CLI controls", { timeout: 120_000 }, () => {
  it("pause shows in list (text and --json); resume clears it", async () => {
    const paused = await ws.runCli(["pause", "quick", "--reason", "maintenance"]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toContain("job quick paused: maintenance");
    const [json, text] = await Promise.all([ws.runCli(["list", "--json"]), ws.runCli(["list"])]);
    const jobs = (JSON.parse(json.stdout) as { jobs: { id: string; paused: boolean; pausedReason: string | null }[] })
      .jobs;
    expect(jobs.find((j) => j.id === "quick")).toMatchObject({ paused: true, pausedReason: "maintenance" });
    expect(jobs.find((j) => j.id === "boom")).toMatchObject({ paused: false, pausedReason: null });
    expect(text.stdout).toMatch(/quick .*paused: maintenance/);
    const resumed = await ws.runCli(["resume", "quick"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("job quick resumed");
    expect(ws.query("SELECT * FROM job_pauses")).toEqual([]);
  });

  it("trigger prints the run id; --wait exits 0 on success and 1 on a failed run", async () => {
    const [ok, failed] = await Promise.all([
      ws.runCli(["trigger", "quick", "--wait"]),
      ws.runCli(["trigger", "boom", "--wait"]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const okId = Number(ok.stdout.trim());
    expect(ws.runs("quick").find((run) => run.id === okId)).toMatchObject({ status: "succeeded", trigger: "manual" });
    expect(failed.code, failed.stderr).toBe(1);
    const failedId = Number(failed.stdout.trim());
    expect(ws.runs("boom").find((run) => run.id === failedId)).toMatchObject({ status: "failed", error: "boom" });
    expect(failed.stderr).toContain(`run #${failedId} failed: boom`);
  });

  it("cancel stops a running run of the daemon", async () => {
    const started = await ws.runCli(["trigger", "slow"]);
    expect(started.code, started.stderr).toBe(0);
    const id = Number(started.stdout.trim());
    await waitFor(() => ws.steps(id).length > 0, { what: "the slow run to start its step" });
    const cancelled = await ws.runCli(["cancel", String(id)]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    await waitFor(() => ws.runs("slow").find((run) => run.id === id && run.status === "cancelled"), {
      what: "the cancelled row",
    });
  });

  it("exits 2 with one clear line for not found, conflict and bad usage", async () => {
    const succeeded = ws.runs("quick").find((run) => run.status === "succeeded")?.id ?? 1;
    const [unknownJob, unknownRun, nothing, badParams, badId] = await Promise.all([
      ws.runCli(["trigger", "nope"]),
      ws.runCli(["cancel", "999999"]),
      ws.runCli(["redeliver", String(succeeded)]),
      ws.runCli(["trigger", "quick", "--params", "{oops"]),
      ws.runCli(["cancel", "abc"]),
    ]);
    expect(unknownJob.code).toBe(2);
    expect(unknownJob.stderr).toMatch(/^sundial: no job "nope" in schedules\.json.*\(not_found\)\n$/);
    expect(unknownRun.code).toBe(2);
    expect(unknownRun.stderr).toContain("no run #999999");
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain("(nothing_to_redeliver)");
    expect(badParams.code).toBe(2);
    expect(badParams.stderr).toContain("--params");
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('"abc" is not a run id');
  });

  it("exits 2 when no daemon answers; list still shows the pause from the ledger", async () => {
    expect((await ws.runCli(["pause", "boom"])).code).toBe(0);
    expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    const [pause, list] = await Promise.all([ws.runCli(["pause", "quick"]), ws.runCli(["list", "--json"])]);
    expect(pause.code).toBe(2);
    expect(pause.stderr).toMatch(/^sundial: no Sundial daemon answers at http:\/\/127\.0\.0\.1:\d+/);
    const jobs = (JSON.parse(list.stdout) as { jobs: { id: string; paused: boolean }[] }).jobs;
    expect(jobs.find((j) => j.id === "boom")?.paused).toBe(true);
  });
});
