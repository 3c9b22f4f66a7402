/**
 * @module log — pino logs as JSON lines on stderr (pretty on a terminal), with every secret from
 * the environment replaced by "[redacted]" wherever it appears, including inside error messages
 * (see util/redact.ts).
 */
import { createRequire } from "node:module";
import pino, { type Logger } from "pino";
import type { Scrub } from "./util/redact.ts";
import { escapeJsonControls, stripControlsInJson } from "./util/terminal-text.ts";

/** pino-pretty (and its dependencies) is loaded only for a terminal, never by a daemon logging JSON. */
const loadPretty = () => createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");

// The redaction lives in a neutral module (the ledger, alerts and the CLI use it too); re-exported here for older imports.
export { createScrubber, registerSecret, secretValues, type Scrub } from "./util/redact.ts";

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  scrub?: Scrub;
  /** Where lines go; default stderr. */
  write?: (line: string) => void;
}

export function createLogger(options: LogOptions = {}): Logger {
  const scrub = options.scrub ?? ((text: string) => text);
  const sink = options.pretty
    ? loadPretty()({ destination: 2, sync: true, colorize: true, ignore: "pid,hostname" })
    : null;
  // Log lines carry text from outside (error bodies): JSON keeps it exact but escaped, the pretty form loses its escapes.
  const write =
    options.write ?? ((line: string) => (sink ? sink.write(stripControlsInJson(line)) : process.stderr.write(line)));
  return pino(
    {
      level: options.level ?? "info",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["*.apiKey", "*.token", "*.authorization", "*.headers.authorization"], censor: "[redacted]" },
    },
    { write: (line: string) => write(escapeJsonControls(scrub(line))) },
  );
}
