/**
 * @module log — pino logs as JSON lines on stderr (pretty on a terminal), with every secret from
 * the environment replaced by "[redacted]" wherever it appears, including inside error messages.
 */
import { createRequire } from "node:module";
import pino, { type Logger } from "pino";
import type { Env } from "./types.ts";

/** pino-pretty (and its dependencies) is loaded only for a terminal, never by a daemon logging JSON. */
const loadPretty = () => createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|WEBHOOK|CREDENTIAL)/i;

/** Values of environment variables that hold secrets, longest first (so no partial leaks). */
export function secretValues(env: Env, extraNames: Iterable<string> = []): string[] {
  const names = new Set([...Object.keys(env).filter((name) => SECRET_NAME.test(name)), ...extraNames]);
  return [...names]
    .map((name) => env[name])
    .filter((value): value is string => typeof value === "string" && value.length >= 6)
    .sort((a, b) => b.length - a.length);
}

export type Scrub = (text: string) => string;

/** Values learnt to be secret while running (a feed's `headersEnv` values): every scrubber hides them too. */
const registered = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (typeof value === "string" && value.length >= 6) registered.add(value);
}

export function createScrubber(env: Env, extraNames: Iterable<string> = []): Scrub {
  const secrets = secretValues(env, extraNames);
  return (text) => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join("[redacted]");
    for (const secret of registered) if (out.includes(secret)) out = out.split(secret).join("[redacted]");
    return out;
  };
}

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  scrub?: Scrub;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
}

export function createLogger(options: LogOptions = {}): Logger {
  const scrub = options.scrub ?? ((text: string) => text);
  const sink = options.pretty ? loadPretty()({ destination: 2, sync: true, colorize: true, ignore: "pid,hostname" }) : null;
  const write = options.write ?? ((line: string) => (sink ? sink.write(line) : process.stderr.write(line)));
  return pino(
    { level: options.level ?? "info", base: undefined, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: ["*.apiKey", "*.token", "*.authorization", "*.headers.authorization"], censor: "[redacted]" } },
    { write: (line: string) => write(scrub(line)) },
  );
}
