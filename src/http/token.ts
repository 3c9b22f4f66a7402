/**
 * @module token — the operator token: `SUNDIAL_API_TOKEN`, or a random one written once to
 * `<data dir>/api-token` (mode 0600) and reused; compared in constant time (digests of equal
 * length, so neither the content nor the length leaks through timing). Never logged.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Env } from "../types.ts";

export const tokenFile = (dataDir: string) => join(dataDir, "api-token");

/** The token the daemon accepts; creates the token file when neither exists. */
export function resolveToken(env: Env, dataDir: string): string {
  const fromEnv = env.SUNDIAL_API_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const file = tokenFile(dataDir);
  try {
    // `wx`: a token written once is never replaced, even by two daemons racing for the file.
    writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const token = readFileSync(file, "utf8").trim();
  if (!token) throw new Error(`${file} is empty; delete it and the daemon writes a new token`);
  return token;
}

/** The token a CLI command sends: `SUNDIAL_API_TOKEN`, else the file's, else null. */
export function readToken(env: Env, dataDir: string): string | null {
  const fromEnv = env.SUNDIAL_API_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(tokenFile(dataDir), "utf8").trim() || null;
  } catch {
    return null;
  }
}

const digest = (text: string) => createHash("sha256").update(text).digest();

export function tokensEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}
