/**
 * @module env — the environment Sundial runs in: `.env` read with dotenv (never overriding a
 * variable already set) and the paths and settings the contract names, with their defaults.
 */
import { resolve } from "node:path";
import { parse } from "dotenv";
import { readFileSync } from "node:fs";
import type { Env } from "../types.ts";
import { parseDuration } from "../util/duration.ts";

export interface Paths {
  schedules: string;
  skillsDir: string;
  dataDir: string;
  database: string;
}

/** `base` plus the variables of `.env` in `cwd` that `base` does not set. */
export function loadEnv(cwd: string, base: Env = process.env): Env {
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parse(readFileSync(resolve(cwd, ".env")));
  } catch {
    // No .env: the environment alone.
  }
  const env: Record<string, string | undefined> = { ...fromFile };
  for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
  return env;
}

export function pathsFrom(env: Env, cwd: string): Paths {
  const dataDir = resolve(cwd, env.SUNDIAL_DATA_DIR || "./data");
  return {
    schedules: resolve(cwd, env.SUNDIAL_SCHEDULES || "./schedules.json"),
    skillsDir: resolve(cwd, env.SUNDIAL_SKILLS_DIR || "./skills"),
    dataDir,
    database: resolve(dataDir, "sundial.db"),
  };
}

/**
 * SUNDIAL_LEASE (default 30s): how long an active run stays held without its holder renewing it
 * (every third of it). A run whose lease expired is interrupted and resumed.
 */
export function leaseMs(env: Env): number {
  const text = env.SUNDIAL_LEASE?.trim();
  if (!text) return 30_000;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (error) {
    throw new Error(`SUNDIAL_LEASE: ${(error as Error).message}`, { cause: error });
  }
  if (ms < 1000 || ms > 86_400_000)
    throw new Error(
      `SUNDIAL_LEASE must be between 1s and 24h (a run whose holder is silent that long is taken from it), not "${text}"`,
    );
  return ms;
}

/**
 * The status server's address. An empty value means the default, like every variable of
 * .env.example ("SUNDIAL_HTTP_PORT=" once meant port 0, a random port, as `Number("")` is 0).
 */
export function httpAddress(env: Env): { host: string; port: number } {
  const text = env.SUNDIAL_HTTP_PORT?.trim() || "8787";
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port > 65535)
    throw new Error(`SUNDIAL_HTTP_PORT must be a port number (0 picks a free one), not "${env.SUNDIAL_HTTP_PORT}"`);
  return { host: env.SUNDIAL_HTTP_HOST?.trim() || "127.0.0.1", port };
}

/**
 * SUNDIAL_DATABASE_URL: `postgres://…` puts the ledger in PostgreSQL (several daemons may share
 * it); unset or empty keeps the SQLite ledger in the data directory.
 */
export function databaseUrl(env: Env): string | null {
  const text = env.SUNDIAL_DATABASE_URL?.trim();
  if (!text) return null;
  if (!/^postgres(ql)?:\/\//i.test(text))
    throw new Error(
      `SUNDIAL_DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host:5432/database), or empty for the SQLite ledger in the data directory`,
    );
  try {
    new URL(text);
  } catch {
    throw new Error(
      `SUNDIAL_DATABASE_URL is not a valid URL; write it as postgres://user:password@host:5432/database (percent-encode special characters in the password)`,
    );
  }
  return text;
}
