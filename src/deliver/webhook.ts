/**
 * @module webhook — the generic webhook delivery: POSTs each output as JSON
 * `{title, summary, markdown, links}` to the URL held by the variable `urlEnv`, with request headers
 * whose values come from other variables (`headersEnv`). The URL and header values are secrets:
 * never written in schedules.json, and never in an error, a receipt or the ledger. 5xx, 429 and
 * network errors are retried (`retry-after` honoured); a redirect is refused, as following one would
 * turn the POST into a GET that "succeeds" without delivering. A body over `maxBytes` is sent with
 * its markdown cut to fit and marked so.
 */
import { z } from "zod";
import { NonRetryableError, ServiceError } from "../errors.ts";
import { envNameSchema } from "../config/fields.ts";
import { fetchWithRetry, safeUrl } from "../integrations/http.ts";
import type { DeliveryAdapter, DeliveryContext, Output } from "../types.ts";
import { registerSecret } from "../util/redact.ts";
import { defineDelivery } from "./define.ts";

export const WEBHOOK = "webhook";
/** Appended to markdown cut to fit `maxBytes`. */
export const TRUNCATED_MARK = "\n\n… (truncated)";

const schema = z.strictObject({
  to: z.literal(WEBHOOK),
  urlEnv: envNameSchema.describe("the environment variable holding the http(s) URL to POST to (a secret)"),
  headersEnv: z
    .record(
      z.string().regex(/^[A-Za-z0-9-]+$/, { message: "expected a header name, like Authorization" }),
      envNameSchema,
    )
    .optional()
    .describe(
      'request headers whose values come from environment variables, like {"Authorization": "HOOK_TOKEN"}; the values are kept secret',
    ),
  maxBytes: z
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(256 * 1024)
    .describe("largest body sent, in bytes; a longer markdown is cut to fit"),
  retries: z.int().min(0).max(10).default(3).describe("further attempts after a 5xx, a 429 or a network error"),
});
export type WebhookTarget = z.output<typeof schema>;

export interface WebhookPayload {
  title: string;
  summary: string | null;
  markdown: string;
  links: { title: string; url: string }[];
}

/** The output as the webhook receives it; receipts of earlier deliveries (a pull request) are links too. */
export function webhookPayload(output: Output, ctx: Pick<DeliveryContext, "earlier">): WebhookPayload {
  const earlier = ctx.earlier
    .filter((receipt) => receipt.url)
    .map((receipt) => ({ title: receipt.to, url: receipt.url as string }));
  return {
    title: output.title,
    summary: output.summary ?? null,
    markdown: output.markdown,
    links: [...(output.links ?? []), ...earlier],
  };
}

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** The longest start of `text` whose JSON-escaped form has at most `budget` bytes, whole code points only. */
function prefixWithin(text: string, budget: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += bytes(JSON.stringify(char)) - 2;
    if (used > budget) break;
    end += char.length;
  }
  return text.slice(0, end);
}

/** The JSON body within `maxBytes`: the markdown cut (and marked) when the whole does not fit. */
export function webhookBody(payload: WebhookPayload, maxBytes: number): string {
  const whole = JSON.stringify(payload);
  if (bytes(whole) <= maxBytes) return whole;
  const frame = bytes(JSON.stringify({ ...payload, markdown: TRUNCATED_MARK }));
  if (frame > maxBytes)
    throw new NonRetryableError(
      `${WEBHOOK}: the output is larger than maxBytes (${maxBytes}) even without its markdown; raise maxBytes`,
    );
  return JSON.stringify({ ...payload, markdown: prefixWithin(payload.markdown, maxBytes - frame) + TRUNCATED_MARK });
}

function secretEnv(ctx: DeliveryContext, name: string, what: string): string {
  const value = ctx.env[name];
  if (!value) throw new NonRetryableError(`${WEBHOOK}: ${name} is not set; it should hold ${what}`);
  registerSecret(value);
  return value;
}

function requestOf(target: WebhookTarget, ctx: DeliveryContext): { url: string; headers: Record<string, string> } {
  const url = secretEnv(ctx, target.urlEnv, "the URL to POST to");
  let protocol = "";
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below, without the value
  }
  if (protocol !== "http:" && protocol !== "https:")
    throw new NonRetryableError(
      `${WEBHOOK}: ${target.urlEnv} does not hold an http(s) URL; set it to the full address, like https://hooks.example.com/…`,
    );
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "sundial" };
  for (const [header, name] of Object.entries(target.headersEnv ?? {}))
    headers[header] = secretEnv(ctx, name, `the value of the ${header} header`);
  return { url, headers };
}

/** The service's error with the URL (a secret: webhook URLs carry their token) named by its variable. */
function withoutUrl(error: ServiceError, url: string, urlEnv: string): ServiceError {
  const message = error.message
    .slice(`${error.service}: `.length)
    .replaceAll(safeUrl(url), `the URL in ${urlEnv}`)
    .replaceAll(url, `the URL in ${urlEnv}`);
  return new ServiceError({ service: WEBHOOK, message, status: error.status, retryable: error.retryable });
}

export function webhookDelivery(options: { baseDelayMs?: number } = {}): DeliveryAdapter<WebhookTarget> {
  return {
    name: WEBHOOK,
    async deliver(output, target, ctx) {
      ctx.signal.throwIfAborted();
      const { url, headers } = requestOf(target, ctx);
      const body = webhookBody(webhookPayload(output, ctx), target.maxBytes);
      try {
        const response = await fetchWithRetry(
          WEBHOOK,
          url,
          { method: "POST", headers, body },
          {
            signal: ctx.signal,
            retries: target.retries,
            baseDelayMs: options.baseDelayMs ?? 1000,
            network: { maxRedirects: 0 },
          },
        );
        await response.body?.cancel().catch(() => undefined);
        return { to: WEBHOOK, detail: { status: response.status, bytes: bytes(body) } };
      } catch (error) {
        if (error instanceof ServiceError) throw withoutUrl(error, url, target.urlEnv);
        throw error;
      }
    },
    async preview(output, target, ctx) {
      const body = webhookBody(webhookPayload(output, ctx), target.maxBytes);
      return `webhook POST to the URL in ${target.urlEnv} (${bytes(body)} bytes):\n${JSON.stringify(JSON.parse(body), null, 2)}\n`;
    },
  };
}

export const webhookDefinition = defineDelivery({
  name: WEBHOOK,
  schema,
  requiredEnv: (target) => [target.urlEnv, ...new Set(Object.values(target.headersEnv ?? {}))],
  create: () => webhookDelivery(),
});
