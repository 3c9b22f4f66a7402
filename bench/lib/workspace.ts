/**
 * @module bench/workspace — a throwaway Sundial workspace under `.tmp/` (where skills resolve
 * "sundial"), the daemon as a real child process, and its ledger read-only. The daemon runs with
 * `--expose-gc` and a one-line preload that collects garbage on SIGUSR2, so memory can be read
 * after a full GC without changing anything else about the process.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** The CLI under test; BENCH_SUNDIAL_BIN points the benchmarks at another checkout (e.g. a candidate fix). */
export const sundialBin = process.env.BENCH_SUNDIAL_BIN ?? join(repoRoot, "bin", "sundial.js");
const GC_DONE = "bench: gc done";
const gcPreload = `data:text/javascript,${encodeURIComponent(`process.on("SIGUSR2",()=>{globalThis.gc();const m=process.memoryUsage();process.stderr.write(${JSON.stringify(GC_DONE)}+" "+JSON.stringify({heapUsed:m.heapUsed,heapTotal:m.heapTotal,external:m.external})+"\\n")})`)}`;
/** Variables of the caller's shell that would point the daemon at other files or services. */
const NOT_INHERITED = /^(SUNDIAL_|ANTHROPIC_|DISCORD_|GITHUB_|LEONARDO_|YOUTUBE_|LOG_LEVEL$|NODE_OPTIONS$)/;

export const NOOP_SKILL = `import { defineSkill, z } from "sundial";

export default defineSkill({
  name: "noop",
  description: "Does nothing: the benchmark measures Sundial, not the skill.",
  params: z.object({}),
  async run() {
    return { title: "noop", markdown: "" };
  },
});
`;

export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !NOT_INHERITED.test(name)) env[name] = value;
  return { ...env, SUNDIAL_HTTP_PORT: "0", LOG_LEVEL: "info", ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface BenchDaemon {
  pid: number;
  /** ms from spawn() to the "sundial is running" line. */
  readyMs: number;
  /** How many stderr lines it wrote so far. */
  lines(): number;
  /** The last few KB of its stderr. */
  tail(): string;
  /** How it exited ("" while it runs). */
  exit(): string;
  /** Asks for a full GC and waits until it is done; answers V8's heap and external memory after it. */
  gc(): Promise<{ heapUsed: number; heapTotal: number; external: number }>;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

/** Resolves when `text` appears in the child's stderr (from now on); rejects on exit or timeout. */
function waitForText(child: ChildProcess, text: string, timeoutMs: number, tail: () => string): Promise<void> {
  return new Promise((resolveWait, reject) => {
    let carry = "";
    const onData = (chunk: Buffer) => {
      const seen = carry + chunk.toString("utf8");
      if (seen.includes(text)) return done();
      carry = seen.slice(-text.length);
    };
    const onExit = (code: number | null) => done(new Error(`the daemon exited (${code}) before "${text}":\n${tail()}`));
    const timer = setTimeout(() => done(new Error(`no "${text}" within ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    function done(error?: Error) {
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolveWait();
    }
    child.stderr?.on("data", onData);
    child.on("exit", onExit);
  });
}

export class BenchWorkspace {
  readonly dir: string;
  readonly dataDir: string;
  readonly dbFile: string;
  private readonly children = new Set<ChildProcess>();

  constructor(name: string, skills: Record<string, string> = { noop: NOOP_SKILL }) {
    mkdirSync(join(repoRoot, ".tmp"), { recursive: true });
    this.dir = mkdtempSync(join(repoRoot, ".tmp", `bench-${name}-`));
    this.dataDir = join(this.dir, "data");
    this.dbFile = join(this.dataDir, "sundial.db");
    mkdirSync(join(this.dir, "skills"), { recursive: true });
    mkdirSync(this.dataDir, { recursive: true });
    for (const [skill, source] of Object.entries(skills))
      writeFileSync(join(this.dir, "skills", `${skill}.ts`), source);
  }

  /** Copies a shipped skill (skills/<name>/) into the workspace. */
  copySkill(name: string): void {
    cpSync(join(repoRoot, "skills", name), join(this.dir, "skills", name), { recursive: true });
  }

  /** `sundial <args>` in a fresh process; resolves with its output and wall time, whatever the exit code. */
  runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
    const started = performance.now();
    return new Promise((done) => {
      execFile(
        process.execPath,
        [sundialBin, ...args],
        {
          cwd: this.dir,
          env: childEnv({ LOG_LEVEL: "warn", ...env }),
          timeout: timeoutMs,
          maxBuffer: 64 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
          done({ code, stdout, stderr, ms: performance.now() - started });
        },
      );
    });
  }

  writeSchedules(schedules: unknown): void {
    writeFileSync(join(this.dir, "schedules.json"), JSON.stringify(schedules));
  }

  /** Spawns `sundial start` and waits for "sundial is running". */
  async start(env: Record<string, string> = {}, timeoutMs = 120_000, nodeFlags: string[] = []): Promise<BenchDaemon> {
    const started = performance.now();
    const child = spawn(process.execPath, ["--expose-gc", `--import=${gcPreload}`, ...nodeFlags, sundialBin, "start"], {
      cwd: this.dir,
      env: childEnv(env),
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.children.add(child);
    let lineCount = 0;
    let tailText = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lineCount++;
      tailText = (tailText + text).slice(-4000);
    });
    let exit = "";
    const exited = new Promise<void>((done) =>
      child.once("exit", (code, signal) => done(void (exit = `exit code ${code}, signal ${signal}`))),
    );
    const tail = () => tailText;
    await waitForText(child, "sundial is running", timeoutMs, tail);
    const readyMs = performance.now() - started;
    return {
      pid: child.pid as number,
      readyMs,
      lines: () => lineCount,
      tail,
      exit: () => exit,
      gc: async () => {
        const done = waitForText(child, GC_DONE, 30_000, tail);
        child.kill("SIGUSR2");
        await done;
        const line = tail()
          .split("\n")
          .findLast((text) => text.startsWith(GC_DONE));
        return JSON.parse(line?.slice(GC_DONE.length) ?? "{}") as {
          heapUsed: number;
          heapTotal: number;
          external: number;
        };
      },
      stop: async (stopTimeoutMs = 30_000) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
        await exited;
        clearTimeout(timer);
        this.children.delete(child);
      },
    };
  }

  /** One read-only query on the ledger, on a fresh connection. */
  query<T>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(this.dbFile, { readonly: true, fileMustExist: true });
    try {
      db.pragma("busy_timeout = 5000");
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  cleanup(): void {
    for (const child of this.children) child.kill("SIGKILL");
    this.children.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
