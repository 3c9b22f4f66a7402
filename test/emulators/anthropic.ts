/**
 * @module emulators/anthropic — a loopback emulator of the Claude Messages API (`POST /v1/messages`)
 * as the official SDK sees it: auth and body checks answered with the API's error bodies, scripted
 * answers, fault injection, and usage counted the way the API counts it, prompt caching included.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** The request fields the emulator reads; the rest is recorded as sent. */
export interface MessagesBody {
  model?: string;
  max_tokens?: number;
  messages?: { role: string; content: unknown }[];
  system?: string | Record<string, unknown>[];
  tools?: Record<string, unknown>[];
  tool_choice?: { type?: string; name?: string };
  output_config?: { format?: { type?: string; schema?: unknown } };
  [key: string]: unknown;
}

/** A scripted answer: text; a value (JSON text, or the forced tool's input); a tool call; text with another stop reason. */
export type EmulatedReply =
  | string
  | { json: unknown }
  | { toolUse: { name: string; input: unknown } }
  | { text: string; stopReason: "end_turn" | "max_tokens" | "refusal" };

export type Responder = (body: MessagesBody, index: number) => EmulatedReply | Promise<EmulatedReply>;
/** One request as received; `body` is undefined when it was not JSON. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: MessagesBody | undefined;
}

/** What the next request gets instead of an answer: `retryAfter` in seconds; `body` raw (default: an API error body). */
export interface Fault {
  status: number;
  retryAfter?: number;
  body?: string;
}

export interface AnthropicEmulator {
  /** The base URL to put in ANTHROPIC_BASE_URL. */
  url: string;
  requests: RecordedRequest[];
  /** Answers each valid request; replace it to script replies per prompt. */
  responder: Responder;
  /** Wait before every answer (timeouts, aborts). */
  delayMs: number;
  /** A cache breakpoint whose prefix is shorter than this is not cached, as on the real API. */
  minCacheTokens: number;
  /** Model ids the API knows; any other answers 404 not_found_error, as the real API does. Add to it for a model newer than the list. */
  models: Set<string>;
  failNext(count: number, fault: Fault): void;
  /** The next answers are 200 with a body that is not JSON. */
  malformedNext(count?: number): void;
  /** Forgets cached prefixes, as if their 5 minutes had passed; `reset` also forgets requests, faults and the script. */
  clearCache(): void;
  reset(): void;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  408: "timeout_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};
const CACHE_TTL_MS = 5 * 60_000;
/** These answer a forced `tool_choice` with a 400 (platform docs, "What's new in Claude Sonnet 5.5" and "Opus 5.5"). */
const FORCED_TOOL_REJECTED = new Set(["claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1"]);
/**
 * The ids the real API accepts that the code and tests use (aliases; a dated id `<alias>-YYYYMMDD`
 * is accepted for each). Kept by hand, not derived from the price table, so a typo there shows.
 */
export const KNOWN_MODELS: readonly string[] = [
  "claude-sonnet-5-5",
  "claude-sonnet-5",
  "claude-sonnet-4-6",
  "claude-sonnet-4-5",
  "claude-sonnet-4-0",
  "claude-sonnet-4",
  "claude-3-7-sonnet",
  "claude-opus-5-5",
  "claude-opus-5",
  "claude-opus-4-8",
  "claude-opus-4-7",
  "claude-opus-4-6",
  "claude-opus-4-5",
  "claude-opus-4-1",
  "claude-opus-4-0",
  "claude-opus-4",
  "claude-haiku-5-5",
  "claude-haiku-4-5",
  "claude-3-5-haiku",
  "claude-3-haiku",
  "claude-fable-5-2",
  "claude-fable-5-1",
  "claude-fable-5",
  "claude-mythos-5-1",
  "claude-mythos-5",
];
const defaultResponder: Responder = () => "Emulated answer.";
const tokensOf = (text: string): number => Math.ceil(text.length / 4);
/** Serialises a block the way the cache sees it: the marker itself is not part of the prefix. */
const withoutMarker = (value: unknown): string =>
  JSON.stringify(value, (key, v: unknown) => (key === "cache_control" ? undefined : v));

export async function startAnthropicEmulator(options: { apiKey?: string } = {}): Promise<AnthropicEmulator> {
  const faults: Fault[] = [];
  const cache = new Map<string, number>();
  let served = 0;

  const emulator: AnthropicEmulator = {
    url: "",
    requests: [],
    responder: defaultResponder,
    delayMs: 0,
    minCacheTokens: 1024,
    models: new Set(KNOWN_MODELS),
    failNext: (count, fault) => faults.push(...Array.from({ length: count }, () => fault)),
    malformedNext: (count = 1) =>
      emulator.failNext(count, { status: 200, body: '{"id":"msg_broken","content":[{"type":' }),
    clearCache: () => cache.clear(),
    reset: () => {
      Object.assign(emulator, {
        requests: [],
        responder: defaultResponder,
        delayMs: 0,
        minCacheTokens: 1024,
        models: new Set(KNOWN_MODELS),
      });
      faults.length = 0;
      cache.clear();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function sendJson(res: ServerResponse, status: number, payload: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json", "request-id": `req_emu_${++served}`, ...headers });
    res.end(payload);
  }
  function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
    sendJson(res, status, JSON.stringify({ type: "error", error: { type, message } }), headers);
  }

  /** Counts usage like the API: the longest cached prefix ending at a marker is read, the rest up to the last marker written. */
  function usageOf(body: MessagesBody, outputTokens: number) {
    const system = typeof body.system === "string" ? [{ type: "text", text: body.system }] : (body.system ?? []);
    const blocks = (body.messages ?? []).flatMap(
      (m) => (Array.isArray(m.content) ? m.content : [m.content]) as unknown[],
    );
    let prefix = createHash("sha256").update(body.model ?? "");
    let total = 0;
    const marks: { key: string; tokens: number }[] = [];
    for (const block of [...(body.tools ?? []), ...system, ...blocks]) {
      const text = withoutMarker(block);
      prefix = prefix.copy().update(text);
      total += tokensOf(text);
      const marked = typeof block === "object" && block !== null && "cache_control" in block;
      if (marked && total >= emulator.minCacheTokens) marks.push({ key: prefix.copy().digest("hex"), tokens: total });
    }
    total += tokensOf(JSON.stringify(body.output_config ?? "")); // billed as input, never part of the cached prefix
    const now = Date.now();
    const hit = [...marks].reverse().find((mark) => (cache.get(mark.key) ?? -Infinity) > now - CACHE_TTL_MS);
    const read = hit?.tokens ?? 0;
    const write = Math.max(0, (marks.at(-1)?.tokens ?? 0) - read);
    for (const mark of marks) cache.set(mark.key, now);
    const cache_creation = { ephemeral_5m_input_tokens: write, ephemeral_1h_input_tokens: 0 };
    return {
      input_tokens: total - read - write,
      output_tokens: outputTokens,
      cache_creation_input_tokens: write,
      cache_read_input_tokens: read,
      cache_creation,
      server_tool_use: null,
      service_tier: "standard",
      inference_geo: "global",
      output_tokens_details: null,
      speed: "standard",
    };
  }

  /** The checks the real API makes that a client can get wrong; a message when one fails. */
  function invalid(body: MessagesBody | undefined): string | undefined {
    if (!body || typeof body !== "object") return "The request body is not valid JSON.";
    for (const field of ["model", "max_tokens", "messages"])
      if (body[field] === undefined) return `${field}: Field required`;
    if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)
      return "max_tokens: Input should be a positive integer";
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return "messages: at least one message is required";
    const forced = body.tool_choice?.type === "tool" || body.tool_choice?.type === "any";
    if (forced && FORCED_TOOL_REJECTED.has(body.model ?? ""))
      return `tool_choice: forced tool use is not supported with ${body.model}; use output_config.format`;
    if (body.tool_choice?.type === "tool" && !(body.tools ?? []).some((t) => t.name === body.tool_choice?.name))
      return `tool_choice: no tool named ${body.tool_choice.name}`;
    const format = body.output_config?.format;
    if (format && (format.type !== "json_schema" || !closedObjects(format.schema)))
      return "output_config.format.schema: objects must set additionalProperties to false";
    return undefined;
  }

  function render(
    reply: EmulatedReply,
    body: MessagesBody,
  ): { content: Record<string, unknown>[]; stop_reason: string } {
    const forcedName = body.tool_choice?.type === "tool" ? body.tool_choice.name : undefined;
    if (typeof reply === "object" && ("toolUse" in reply || ("json" in reply && forcedName))) {
      const call = "toolUse" in reply ? reply.toolUse : { name: forcedName, input: reply.json };
      return { content: [{ type: "tool_use", id: `toolu_emu_${served + 1}`, ...call }], stop_reason: "tool_use" };
    }
    let text = typeof reply === "string" ? reply : "json" in reply ? JSON.stringify(reply.json) : reply.text;
    let stop = typeof reply === "object" && "stopReason" in reply ? reply.stopReason : "end_turn";
    const limit = (body.max_tokens ?? 0) * 4;
    if (text.length > limit) [text, stop] = [text.slice(0, limit), "max_tokens"];
    return { content: [{ type: "text", text, citations: null }], stop_reason: stop };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = parseBody(Buffer.concat(chunks).toString("utf8"));
    const index =
      emulator.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body }) - 1;
    if (emulator.delayMs > 0) {
      const gone = new AbortController(); // a client that gave up stops the wait
      res.on("close", () => gone.abort());
      await sleep(emulator.delayMs, undefined, { signal: gone.signal }).catch(() => undefined);
      if (res.destroyed) return;
    }
    if (req.method !== "POST" || (req.url ?? "").split("?")[0] !== "/v1/messages")
      return sendError(res, 404, `${req.method} ${req.url} is not emulated`);
    // SDK 1.x sends the key as `Authorization: Bearer`; older clients and curl examples use `x-api-key`.
    const key = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? req.headers["x-api-key"];
    if (!key) return sendError(res, 401, "an API key is required: send Authorization: Bearer <key> or x-api-key");
    if (options.apiKey !== undefined && key !== options.apiKey) return sendError(res, 401, "invalid x-api-key");
    if (!req.headers["anthropic-version"]) return sendError(res, 400, "anthropic-version: header is required");
    const fault = faults.shift();
    if (fault) {
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) };
      if (fault.body !== undefined) return sendJson(res, fault.status, fault.body, headers);
      return sendError(res, fault.status, `emulated ${fault.status}`, headers);
    }
    const problem = invalid(body);
    if (problem || !body) return sendError(res, 400, problem ?? "invalid request");
    if (!isKnownModel(body.model ?? "")) return sendError(res, 404, `model: ${body.model}`);
    const { content, stop_reason } = render(await emulator.responder(body, index), body);
    const output = content.reduce((sum, block) => sum + tokensOf(JSON.stringify(block.text ?? block.input ?? "")), 0);
    const message = {
      id: `msg_emu_${index}`,
      type: "message",
      role: "assistant",
      model: body.model,
      content,
      stop_reason,
      stop_sequence: null,
    };
    sendJson(res, 200, JSON.stringify({ ...message, usage: usageOf(body, Math.max(1, output)) }));
  }

  function isKnownModel(model: string): boolean {
    return emulator.models.has(model) || emulator.models.has(model.replace(/-\d{8}$/, ""));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, 500, `emulator failure: ${String(error)}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  emulator.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return emulator;
}

function parseBody(text: string): MessagesBody | undefined {
  try {
    return JSON.parse(text) as MessagesBody;
  } catch {
    return undefined;
  }
}

/** True when every object in the schema is closed, as structured outputs require. */
function closedObjects(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(closedObjects);
  if (typeof schema !== "object" || schema === null) return true;
  const node = schema as Record<string, unknown>;
  if (node.type === "object" && node.additionalProperties !== false) return false;
  return Object.values(node).every(closedObjects);
}
