/**
 * @module redact — removes secrets from any text that leaves Sundial (logs, the ledger, alerts,
 * deliveries of error text, CLI output): the values of secret environment variables, also in their
 * JSON-escaped and URL-encoded forms, and the userinfo of every URL (`https://user:pass@host`).
 */
import type { Env, Output } from "../types.ts";

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|WEBHOOK|CREDENTIAL)/i;
const MIN_SECRET_CHARS = 6;
export const REDACTED = "[redacted]";

/**
 * Values of environment variables that hold secrets, longest first (so no partial leaks): those
 * whose names say so, and `extraNames` (such as every `webhookEnv` of schedules.json, whatever its name).
 */
export function secretValues(env: Env, extraNames: Iterable<string> = []): string[] {
  const names = new Set([...Object.keys(env).filter((name) => SECRET_NAME.test(name)), ...extraNames]);
  return [...names]
    .map((name) => env[name])
    .filter((value): value is string => typeof value === "string" && value.length >= MIN_SECRET_CHARS)
    .sort((a, b) => b.length - a.length);
}

/** How a value may appear once it went through JSON (once or twice, as in a log line of a JSON body) or a URL. */
function escapedForms(secret: string): string[] {
  const json = (text: string) => JSON.stringify(text).slice(1, -1);
  const forms = [
    secret,
    json(secret),
    json(json(secret)),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, "+"),
  ];
  return [...new Set(forms)];
}

/**
 * `scheme://user:pass@host` → `scheme://host`, in one pass over the text (no backtracking regex:
 * error bodies can be large). Userinfo ends at the first `@` before any `/ ? #`, space or quote.
 */
export function stripUrlUserinfo(text: string): string {
  let out = "";
  let from = 0;
  for (let at = text.indexOf("://"); at !== -1; at = text.indexOf("://", at + 3)) {
    const start = at + 3;
    let end = start;
    while (end < text.length && !"/?#@ \t\r\n\"'<>`\\".includes(text[end] as string)) end++;
    if (text[end] === "@" && end > start) {
      out += text.slice(from, start);
      from = end + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

export type Scrub = (text: string) => string;

/**
 * Values learnt to be secret while running (a feed's `headersEnv` values, a feed URL's password):
 * every scrubber hides them too, in every escaped form.
 */
const registered = new Set<string>();
let registeredForms: string[] = [];

export function registerSecret(value: string | undefined): void {
  if (typeof value !== "string" || value.length < MIN_SECRET_CHARS || registered.has(value)) return;
  registered.add(value);
  registeredForms = [...new Set([...registered].flatMap(escapedForms))].sort((a, b) => b.length - a.length);
}

/** A scrubber for `env`'s secrets; every form of each value becomes "[redacted]", and URL userinfo is dropped. */
export function createScrubber(env: Env, extraNames: Iterable<string> = []): Scrub {
  const forms = [...new Set(secretValues(env, extraNames).flatMap(escapedForms))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = stripUrlUserinfo(text);
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    for (const form of registeredForms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    return out;
  };
}

/**
 * A scrubber whose secret names can grow: schedules.json is read after the logger and the ledger
 * exist, and its `webhookEnv` names are secrets from then on.
 */
export interface SecretScrubber extends Scrub {
  addSecretNames(names: Iterable<string>): void;
}

export function createGrowingScrubber(env: Env): SecretScrubber {
  const names = new Set<string>();
  let current = createScrubber(env);
  const scrub = ((text: string) => current(text)) as SecretScrubber;
  scrub.addSecretNames = (more) => {
    const before = names.size;
    for (const name of more) names.add(name);
    if (names.size !== before) current = createScrubber(env, names);
  };
  return scrub;
}

/**
 * An output with its text scrubbed (title, summary, markdown, links, text files): a skill that
 * delivers an error ("could not read: …") or quotes a URL cannot send a secret or a URL's userinfo.
 * Binary files and the `onDelivered` callback are kept as they are.
 */
export function scrubOutput(output: Output, scrub: Scrub): Output {
  return {
    ...output,
    title: scrub(output.title),
    markdown: scrub(output.markdown),
    ...(output.summary !== undefined ? { summary: scrub(output.summary) } : {}),
    ...(output.links
      ? { links: output.links.map((link) => ({ title: scrub(link.title), url: scrub(link.url) })) }
      : {}),
    ...(output.files
      ? {
          files: output.files.map((file) =>
            typeof file.content === "string" ? { ...file, content: scrub(file.content) } : file,
          ),
        }
      : {}),
  };
}
