/**
 * @module bench/peer — runs a peer benchmark (bench/peers/*.ts) in a fresh Node process with
 * `--expose-gc` and tsx, and returns the one JSON document it prints on stdout.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./workspace.ts";

const run = promisify(execFile);

export async function runPeer<T>(script: string, args: string[], timeoutMs = 180_000): Promise<T> {
  const { stdout } = await run(
    process.execPath,
    ["--expose-gc", join(repoRoot, "bin", "run-ts.js"), join(repoRoot, "bench", "peers", script), ...args],
    {
      cwd: repoRoot,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as T;
}
