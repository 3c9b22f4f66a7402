/**
 * @module workspace — end-to-end test helper: a temporary Sundial workspace under `.tmp/` (where
 * skills can import "sundial"), the daemon and the CLI as real child processes, and the SQLite
 * ledger read-only. Every child is killed and the directory removed by `cleanup()` (call it in
 * afterEach, so a failing test leaves nothing running).
 *
 *   const ws = createWorkspace({ skills: { tick: "…skill source…" }, schedules: { jobs: [...] } });
 *   const daemon = await ws.start();                  // waits for "sundial is running"; daemon.url
 *   await waitFor(() => ws.runs("tick").length >= 3, { what: "three runs" });
 *   const { code, stdout } = await ws.runCli(["runs", "--json"]);
 *   const exit = await daemon.stop("SIGTERM");        // { code, signal }
 *   await ws.cleanup();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import type { RunStatus, RunTrigger } from "../../src/types.ts";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const bin = join(repoRoot, "bin", "sundial.js");
// The daemon under test refuses non-loopback connections too, like the test process itself.
const loopbackOnly = pathToFileURL(join(repoRoot, "test", "setup", "loopback-only.js")).href;
// Variables of the developer's shell that would point the child at other files or real services.
const NOT_INHERITED = /^(SUNDIAL_|ANTHROPIC_|DISCORD_|GITHUB_|LEONARDO_|YOUTUBE_|LOG_LEVEL$)/;

export type ChildEnv = Record<string, string>;
export type Exit = { code: number | null; signal: NodeJS.Signals | null };
export type CliResult = { code: number | null; stdout: string; stderr: string };

/** A `runs` row as stored: epoch ms times, snake_case columns (see src/ledger/sqlite-schema.ts). */
export interface LedgerRun {
  id: number;
  job: string;
  skill: string;
  trigger: RunTrigger;
  status: RunStatus;
  reason: string | null;
  error: string | null;
  scheduled_for: number;
  started_at: number | null;
  finished_at: number | null;
  attempt: number;
  resume_of: number | null;
}
/** A `steps` row as stored; `result` is the step's JSON-encoded return value. */
export type LedgerStep = {
  run_id: number;
  step_id: string;
  status: "running" | "succeeded" | "failed";
  started_at: number;
  finished_at: number | null;
  result: string | null;
  error: string | null;
  reused_from: number | null;
};

export interface WorkspaceOptions {
  /** Skill name → TypeScript source, written to skills/<name>.ts. */
  skills?: Record<string, string>;
  schedules?: unknown;
  /** Added to every child's environment (after SUNDIAL_HTTP_PORT=0 and LOG_LEVEL=info). */
  env?: ChildEnv;
  /** Create data/ up front (default true). */
  createDataDir?: boolean;
}

/** Polls `probe` until it returns a truthy value (which it resolves with); a throw counts as "not yet". */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${options.timeoutMs ?? 15_000} ms waiting for ${options.what ?? "a condition"}${last ? ` (last error: ${String(last)})` : ""}`,
      );
    await new Promise((done) => setTimeout(done, options.intervalMs ?? 100));
  }
}

function jsonRecord(line: string): Record<string, unknown>[] {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : [];
  } catch {
    return [];
  }
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((done) => child.once("close", (code, signal) => done({ code, signal })));
}

function watchDaemon(child: ChildProcess) {
  const lines: string[] = [];
  let partial = "";
  let out = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  let gone = false;
  const exited = exitOf(child).then((exit) => {
    if (partial) lines.push(partial);
    gone = true;
    return exit;
  });
  const daemon = {
    pid: child.pid as number,
    /** The status server's base URL, known once `ready()` resolved (`start()` waits for it). */
    url: "",
    /** Every stderr line so far. */
    lines,
    /** Everything written to stdout so far (the stdout delivery). */
    stdout: () => out,
    /** The stderr lines that are JSON log records, parsed. */
    logs: () => lines.flatMap(jsonRecord),
    /** Resolves with the "sundial is running" url; rejects as soon as the process exits without it. */
    async ready(timeoutMs = 60_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const url = daemon.logs().find((log) => log.msg === "sundial is running")?.url;
        if (typeof url === "string") return (daemon.url = url);
        const why = gone
          ? "the daemon exited before it was running"
          : Date.now() > deadline
            ? `the daemon was not running after ${timeoutMs} ms`
            : null;
        if (why) throw new Error(`${why}; its stderr:\n${lines.join("\n")}`);
        await new Promise((done) => setTimeout(done, 50));
      }
    },
    /** Settles when the process has exited and its output is read. */
    exited,
    /** Sends `signal` and waits for the exit; SIGKILLs and throws if that takes over `timeoutMs`. */
    async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 30_000): Promise<Exit> {
      if (!gone) child.kill(signal);
      const timer = new Promise<null>((done) => setTimeout(() => done(null), timeoutMs).unref());
      const exit = await Promise.race([exited, timer]);
      if (exit) return exit;
      child.kill("SIGKILL");
      await exited;
      throw new Error(`the daemon did not exit within ${timeoutMs} ms of ${signal}`);
    },
  };
  return daemon;
}
export type Daemon = ReturnType<typeof watchDaemon>;

export function createWorkspace(options: WorkspaceOptions = {}) {
  mkdirSync(join(repoRoot, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(repoRoot, ".tmp", "e2e-"));
  const dataDir = join(dir, "data");
  const dbFile = join(dataDir, "sundial.db");
  const children: ChildProcess[] = [];
  mkdirSync(join(dir, "skills"));
  if (options.createDataDir !== false) mkdirSync(dataDir);

  const childEnv = (extra: ChildEnv = {}): ChildEnv => {
    const inherited = Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !NOT_INHERITED.test(entry[0]),
    );
    return { ...Object.fromEntries(inherited), SUNDIAL_HTTP_PORT: "0", LOG_LEVEL: "info", ...options.env, ...extra };
  };
  const launch = (args: string[], env?: ChildEnv): ChildProcess => {
    const child = spawn(process.execPath, [`--import=${loopbackOnly}`, bin, ...args], {
      cwd: dir,
      env: childEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    return child;
  };
  const query = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      db.pragma("busy_timeout = 5000");
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };

  const ws = {
    dir,
    dataDir,
    dbFile,
    writeSkill: (name: string, source: string) => writeFileSync(join(dir, "skills", `${name}.ts`), source),
    /** Writes schedules.json: a value as JSON, a string as is (for broken files). */
    writeSchedules: (schedules: unknown) =>
      writeFileSync(
        join(dir, "schedules.json"),
        typeof schedules === "string" ? schedules : JSON.stringify(schedules, null, 2),
      ),
    /** Spawns `sundial start` without waiting for it; `env` adds to the workspace's env. */
    spawn: (env?: ChildEnv) => watchDaemon(launch(["start"], env)),
    /** Spawns `sundial <args>` without waiting (to signal it mid-way); same handle as `spawn`. */
    spawnCli: (args: string[], env?: ChildEnv) => watchDaemon(launch(args, env)),
    /** Spawns `sundial start` and waits for "sundial is running" (`daemon.url` is then set). */
    async start(env?: ChildEnv, timeoutMs?: number): Promise<Daemon> {
      const daemon = ws.spawn(env);
      await daemon.ready(timeoutMs);
      return daemon;
    },
    /** `sundial <args>` in the workspace; throws only if it had to be killed after `timeoutMs`. */
    async runCli(args: string[], env?: ChildEnv, timeoutMs = 60_000): Promise<CliResult> {
      const child = launch(args, env);
      let stdout = "";
      let stderr = "";
      child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const { code, signal } = await exitOf(child);
      clearTimeout(timer);
      if (signal) throw new Error(`sundial ${args.join(" ")} ended by ${signal} (over ${timeoutMs} ms?)\n${stderr}`);
      return { code, stdout, stderr };
    },
    /** Runs one read-only query on the ledger (a fresh connection each time). */
    query,
    /** The job's runs (every job's without `job`), oldest first. */
    runs: (job?: string) =>
      job
        ? query<LedgerRun>("SELECT * FROM runs WHERE job = ? ORDER BY id", job)
        : query<LedgerRun>("SELECT * FROM runs ORDER BY id"),
    steps: (runId: number) => query<LedgerStep>("SELECT * FROM steps WHERE run_id = ? ORDER BY seq", runId),
    /** Kills every child still running and removes the directory (call it in afterEach). */
    async cleanup(): Promise<void> {
      const alive = children.filter((child) => child.exitCode === null && child.signalCode === null);
      const exits = alive.map(exitOf);
      for (const child of alive) child.kill("SIGKILL");
      await Promise.all(exits);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [name, source] of Object.entries(options.skills ?? {})) ws.writeSkill(name, source);
  if (options.schedules !== undefined) ws.writeSchedules(options.schedules);
  return ws;
}
export type Workspace = ReturnType<typeof createWorkspace>;
