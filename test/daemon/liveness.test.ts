/**
 * Liveness without trusting pids: a stale lock naming a live (reused) pid does not stop the daemon;
 * daemons racing for one data directory never both start; an active row held by a live but
 * unrelated process is taken back when its lease expires, while the daemon runs; `sundial run` ended
 * by SIGHUP records its run, and one killed with SIGKILL is recovered by the daemon through its lease.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, repoRoot, waitFor, type Workspace } from "../helpers/workspace.ts";

const nap = `
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "nap",
  description: "sleeps for a while",
  params: z.object({ ms: z.number().default(0) }),
  async run(ctx) {
    await ctx.step("nap", () => sleep(ctx.params.ms, "rested", { signal: ctx.signal }));
    return { title: "nap", markdown: "rested" };
  },
});
`;
const everySecond = (ms = 0) => ({
  shutdownGrace: "2s",
  jobs: [{ id: "nap", skill: "nap", cron: "* * * * * *", params: { ms } }],
});
const yearly = (ms: number) => ({
  shutdownGrace: "1s",
  jobs: [{ id: "nap", skill: "nap", cron: "0 0 1 1 *", params: { ms } }],
});

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("the data directory lock", () => {
  it("starts over a stale lock whose pid now belongs to another live process", { timeout: 90_000 }, async () => {
    ws = createWorkspace({ skills: { nap }, schedules: everySecond() });
    const w = ws;
    // The pid of this test process: alive, and not a Sundial daemon (a reused pid).
    writeFileSync(
      join(w.dataDir, "daemon.lock"),
      JSON.stringify({ pid: process.pid, startedAt: "2026-01-01T00:00:00.000Z" }),
    );
    const daemon = await w.start();
    await waitFor(() => w.runs("nap").some((run) => run.status === "succeeded"), { timeoutMs: 30_000, what: "a run" });
    expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it(
    "lets exactly one of two daemons started at once over a stale lock run; the other exits 2",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({ skills: { nap }, schedules: everySecond() });
      const w = ws;
      writeFileSync(join(w.dataDir, "daemon.lock"), JSON.stringify({ pid: 1 }));
      const daemons = [w.spawn(), w.spawn()];
      const ready = await Promise.allSettled(daemons.map((daemon) => daemon.ready()));
      expect(ready.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      const loser = daemons[ready.findIndex((result) => result.status === "rejected")];
      const winner = daemons[ready.findIndex((result) => result.status === "fulfilled")];
      expect(await loser?.exited).toEqual({ code: 2, signal: null });
      expect(loser?.lines.join("\n")).toContain("is already using this data directory");
      await waitFor(() => w.runs("nap").some((run) => run.status === "succeeded"), {
        timeoutMs: 30_000,
        what: "a run of the winner",
      });
      expect(await winner?.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    },
  );

  it("is held by exactly one of three processes racing for it, round after round", { timeout: 120_000 }, async () => {
    ws = createWorkspace({});
    const parent = join(ws.dir, "race");
    mkdirSync(parent);
    const rounds = 10;
    for (let round = 0; round < rounds; round++) {
      mkdirSync(join(parent, String(round)));
      // Each round starts over a stale note naming a live pid.
      writeFileSync(join(parent, String(round), "daemon.lock"), JSON.stringify({ pid: process.pid }));
    }
    const startAt = Date.now() + 6_000;
    const script = join(repoRoot, "test", "helpers", "lock-holder.ts");
    const outputs = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<{ code: number | null; out: string; err: string }>((done) => {
            const child = spawn(
              process.execPath,
              ["--import", "tsx", script, parent, String(rounds), String(startAt)],
              { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
            );
            let out = "";
            let err = "";
            child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
            child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
            child.once("close", (code) => done({ code, out, err }));
          }),
      ),
    );
    for (const output of outputs) expect(output, output.err).toMatchObject({ code: 0 });
    const lines = outputs.flatMap((output) => output.out.trim().split("\n"));
    expect(lines).toHaveLength(3 * rounds);
    for (let round = 0; round < rounds; round++)
      expect(
        lines.filter((line) => line === `${round} held`),
        `round ${round}`,
      ).toHaveLength(1);
  });
});

describe("running rows", () => {
  it(
    "takes back, while the daemon runs, a running row whose live but unrelated holder stopped renewing its lease",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({ skills: { nap }, schedules: everySecond(), env: { SUNDIAL_LEASE: "1s" } });
      const w = ws;
      const daemon = await w.start();
      await waitFor(() => w.runs("nap").some((run) => run.status === "succeeded"), {
        timeoutMs: 30_000,
        what: "a first run",
      });

      // A row as a process with a live pid (this test's) that then froze would leave it.
      const db = new Database(w.dbFile);
      let orphan: number;
      try {
        db.pragma("busy_timeout = 5000");
        const now = Date.now();
        orphan = Number(
          db
            .prepare(
              `INSERT INTO runs (job, skill, trigger, status, scheduled_for, started_at, attempt, owner_pid, owner_instance, lease_expires_at, epoch)
          VALUES ('nap', 'nap', 'manual', 'running', ?, ?, 1, ?, 'a frozen process', ?, 1)`,
            )
            .run(now - 1, now, process.pid, now + 1_000).lastInsertRowid,
        );
      } finally {
        db.close();
      }
      const taken = await waitFor(
        () => w.runs("nap").find((run) => run.id === orphan && run.status === "interrupted"),
        { timeoutMs: 15_000, what: "the orphan interrupted" },
      );
      expect(taken.reason).toContain("lease");
      expect(w.query<{ epoch: number }>("SELECT epoch FROM runs WHERE id = ?", orphan)[0]?.epoch).toBe(2);
      // While it was held, it blocked its job's slots (overlap skip)…
      expect(w.runs("nap").some((run) => run.status === "skipped" && run.reason?.includes(`run #${orphan}`))).toBe(
        true,
      );
      // …and after its lease expired, later slots run again.
      await waitFor(
        () =>
          w
            .runs("nap")
            .filter(
              (run) =>
                run.trigger === "schedule" &&
                run.status === "succeeded" &&
                run.scheduled_for > (taken.finished_at as number),
            ).length >= 2,
        { timeoutMs: 20_000, what: "slots after the orphan" },
      );
      expect(
        daemon.logs().some((log) => log.msg === "run's lease expired; marked interrupted" && log.run === orphan),
      ).toBe(true);
      expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    },
  );
});

describe("sundial run", () => {
  it(
    "records its run interrupted on SIGHUP (the SSH session dropped) and exits, leaving the job free",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({ skills: { nap }, schedules: yearly(60_000) });
      const w = ws;
      const cli = w.spawnCli(["run", "nap"]);
      const run = await waitFor(
        () => w.runs("nap").find((r) => r.status === "running" && w.steps(r.id).some((s) => s.status === "running")),
        { timeoutMs: 30_000, what: "the run under way" },
      );
      const exit = await cli.stop("SIGHUP", 15_000);
      expect(exit).toEqual({ code: 1, signal: null });
      const after = w.runs("nap").find((r) => r.id === run.id);
      expect(after).toMatchObject({ status: "interrupted" });
      expect(after?.finished_at).not.toBeNull();
      expect(after?.error).toContain("SIGHUP");
      // The job is not blocked: the next run (overlap skip) runs.
      const next = await w.runCli(["run", "nap", "--params", '{"ms":0}']);
      expect(next.code, next.stderr).toBe(0);
      expect(w.runs("nap").at(-1)).toMatchObject({ status: "succeeded" });
    },
  );

  it("is recovered by the daemon through its lease when killed with SIGKILL", { timeout: 120_000 }, async () => {
    ws = createWorkspace({ skills: { nap }, schedules: yearly(60_000), env: { SUNDIAL_LEASE: "1s" } });
    const w = ws;
    const daemon = await w.start();
    const cli = w.spawnCli(["run", "nap"]);
    const run = await waitFor(
      () => w.runs("nap").find((r) => r.status === "running" && w.steps(r.id).some((s) => s.status === "running")),
      { timeoutMs: 30_000, what: "the run under way" },
    );
    // Its lease is renewed while it works: still held after several lease lengths.
    await new Promise((done) => setTimeout(done, 2_500));
    expect(w.runs("nap").find((r) => r.id === run.id)?.status).toBe("running");
    await cli.stop("SIGKILL");
    const taken = await waitFor(() => w.runs("nap").find((r) => r.id === run.id && r.status === "interrupted"), {
      timeoutMs: 15_000,
      what: "the killed run interrupted",
    });
    expect(taken.reason).toContain("lease");
    await waitFor(() => w.runs("nap").find((r) => r.resume_of === run.id), { timeoutMs: 15_000, what: "its resume" });
    expect(w.runs("nap").filter((r) => r.resume_of === run.id)).toHaveLength(1);
    await daemon.stop("SIGTERM");
  });
});
