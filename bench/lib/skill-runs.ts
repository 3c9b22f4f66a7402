/**
 * @module bench/skill-runs — the shipped skills run for real (`sundial run <job>` in a fresh
 * process, loopback-only) against the emulators of test/emulators, and what the ledger recorded.
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { repoRoot, type BenchWorkspace } from "./workspace.ts";

/** Refuses any non-loopback connection in the CLI process, as the tests do. */
export const LOOPBACK_ONLY = {
  NODE_OPTIONS: `--import=${pathToFileURL(join(repoRoot, "test", "setup", "loopback-only.js")).href}`,
};

export interface RecordedRun {
  id: number;
  status: string;
  error: string | null;
  /** finished_at − started_at from the ledger. */
  wallMs: number;
  /** The CLI process, spawn to exit. */
  processMs: number;
  input: number;
  cacheWrite: number;
  cacheRead: number;
}

/** Runs `sundial run <job>` and returns the run it recorded (the newest row of the job). */
export async function runJob(ws: BenchWorkspace, job: string, env: Record<string, string>): Promise<RecordedRun> {
  const result = await ws.runCli(["run", job], { ...env, ...LOOPBACK_ONLY }, 300_000);
  const [row] = ws.query<{
    id: number;
    status: string;
    error: string | null;
    started_at: number;
    finished_at: number;
    input_tokens: number;
    cache_write_tokens: number;
    cache_read_tokens: number;
  }>(`SELECT * FROM runs WHERE job = ? ORDER BY id DESC LIMIT 1`, job);
  if (!row) throw new Error(`sundial run ${job} recorded no run (exit ${result.code}): ${result.stderr.slice(0, 800)}`);
  if (row.status !== "succeeded")
    throw new Error(`sundial run ${job} ended ${row.status}: ${row.error ?? result.stderr.slice(0, 800)}`);
  return {
    id: row.id,
    status: row.status,
    error: row.error,
    wallMs: row.finished_at - row.started_at,
    processMs: result.ms,
    input: row.input_tokens,
    cacheWrite: row.cache_write_tokens,
    cacheRead: row.cache_read_tokens,
  };
}

/** Share of the run's input tokens read from the cache (the API's input_tokens exclude cached ones). */
export function cacheShare(run: RecordedRun): number {
  const total = run.input + run.cacheWrite + run.cacheRead;
  return total ? run.cacheRead / total : 0;
}
