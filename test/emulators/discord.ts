/**
 * @module emulators/discord — a loopback Discord REST API v10 as @discordjs/rest sees it: channel
 * messages (bot token), webhook executions (`?wait=true`), JSON or multipart bodies, Discord's
 * error bodies (401, 403 50001, 404 10003/10015, 400 50035 keyed by path for content, nonce and every
 * embed limit), nonces enforced within a clock-based window (bots only; webhooks take none) and its
 * rate-limit answers (429 with `retry_after`, `retry-after` and `x-ratelimit-*`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const CHANNEL_ID = "111111111111111111";
export const DM_CHANNEL_ID = "222222222222222222";
export const FORBIDDEN_CHANNEL_ID = "333333333333333333";
export const GUILD_ID = "999999999999999999";
export const WEBHOOK_ID = "444444444444444444";
export const WEBHOOK_TOKEN = "emulated-webhook-token_ABC-123";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

export interface Fault {
  /** Answer with this status instead of handling the request; without it, only `delayMs` applies. */
  status?: number;
  /** Seconds, for a 429: sent as `retry_after` in the body and as `retry-after` and reset headers. */
  retryAfter?: number;
  /** The raw body to answer with (such as malformed JSON); defaults to Discord's error body. */
  body?: string;
  delayMs?: number;
  /** Only requests whose path contains this take the fault; others pass. */
  path?: string;
  /** Only requests with this method take the fault ("POST": posts, not the guild look-up). */
  method?: string;
}

export interface EmulatedAttachment {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface EmulatedMessage {
  id: string;
  channelId: string;
  webhookId: string | null;
  content: string;
  embeds: Record<string, unknown>[];
  allowed_mentions: unknown;
  nonce: string | null;
  attachments: EmulatedAttachment[];
  /** When it was posted, by the emulator's clock. */
  createdAt: number;
  /** Whom Discord would have pinged, by its `allowed_mentions` rules. */
  pings: { everyone: boolean; users: string[]; roles: string[] };
}

export interface DiscordEmulatorOptions {
  token?: string;
  /** Channel id → guild id (null for a DM channel). */
  channels?: Record<string, string | null>;
  forbiddenChannels?: string[];
  webhooks?: { id: string; token: string; channelId: string }[];
  /** The emulator's clock (ms), for the nonce window; default Date.now. */
  now?: () => number;
  /** How long an enforced nonce returns the first message: Discord says "the past few minutes". */
  nonceWindowMs?: number;
}

type Payload = {
  content?: unknown;
  embeds?: unknown;
  allowed_mentions?: unknown;
  nonce?: unknown;
  enforce_nonce?: unknown;
};
const TOO_LONG = (max: number) => ({
  _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${max} or fewer in length.` }],
});

export async function startDiscordEmulator(options: DiscordEmulatorOptions = {}) {
  const token = options.token ?? "emulated-bot-token";
  const channels = options.channels ?? { [CHANNEL_ID]: GUILD_ID, [DM_CHANNEL_ID]: null };
  const forbidden = new Set(options.forbiddenChannels ?? [FORBIDDEN_CHANNEL_ID]);
  const webhooks = options.webhooks ?? [{ id: WEBHOOK_ID, token: WEBHOOK_TOKEN, channelId: CHANNEL_ID }];
  const now = options.now ?? Date.now;
  const nonceWindowMs = options.nonceWindowMs ?? 5 * 60_000;
  const messages: EmulatedMessage[] = [];
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let sequence = 0;

  const emulator = {
    /** The value for DISCORD_API_URL, such as http://127.0.0.1:PORT/api. */
    url: "",
    token,
    messages,
    requests,
    webhookUrl(hook = webhooks[0] as { id: string; token: string }): string {
      return `${emulator.url}/webhooks/${hook.id}/${hook.token}`;
    },
    /**
     * Called for each POST no queued fault took (the arriving message not yet kept): a fault it
     * returns answers instead, so a test can fail the n-th post or kill a daemon while it posts.
     */
    beforePost: null as null | ((request: RecordedRequest) => Fault | undefined),
    /** Tried before the built-in routes (the gateway emulator's REST side); true when it answered. */
    extraRoute: null as null | ((request: RecordedRequest, response: ServerResponse) => boolean),
    /** The next `n` requests get this answer (or delay) instead. */
    failNext(n: number, fault: Fault): void {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };

  async function route(request: RecordedRequest, response: ServerResponse): Promise<void> {
    const path = request.path.split("?")[0] ?? "";
    if (emulator.extraRoute?.(request, response)) return;
    const channel = /^\/api\/v10\/channels\/(\d+)(\/messages)?$/.exec(path);
    const hook = /^\/api\/v10\/webhooks\/(\d+)\/([^/]+)$/.exec(path);
    if (channel) {
      if (request.headers.authorization !== `Bot ${token}`)
        return json(response, 401, { message: "401: Unauthorized", code: 0 });
      const id = channel[1] as string;
      if (!(id in channels) && !forbidden.has(id))
        return json(response, 404, { message: "Unknown Channel", code: 10003 });
      if (forbidden.has(id)) return json(response, 403, { message: "Missing Access", code: 50001 });
      if (request.method === "GET" && !channel[2])
        return json(response, 200, {
          id,
          type: channels[id] ? 0 : 1,
          ...(channels[id] ? { guild_id: channels[id], name: "general" } : {}),
        });
      if (request.method === "POST" && channel[2]) return post(request, response, id, null);
    } else if (hook) {
      const found = webhooks.find((candidate) => candidate.id === hook[1] && candidate.token === hook[2]);
      if (!found) return json(response, 404, { message: "Unknown Webhook", code: 10015 });
      const guildId = channels[found.channelId] ?? null;
      if (request.method === "GET")
        return json(response, 200, {
          id: found.id,
          type: 1,
          channel_id: found.channelId,
          guild_id: guildId,
          name: "Sundial",
          token: found.token,
        });
      if (request.method === "POST") return post(request, response, found.channelId, found.id);
    }
    json(response, 404, { message: "404: Not Found", code: 0 });
  }

  async function post(
    request: RecordedRequest,
    response: ServerResponse,
    channelId: string,
    webhookId: string | null,
  ): Promise<void> {
    let payload: Payload;
    const attachments: EmulatedAttachment[] = [];
    try {
      const type = request.headers["content-type"] ?? "";
      if (type.startsWith("multipart/form-data")) {
        const form = await new Response(request.body, { headers: { "content-type": type } }).formData();
        payload = JSON.parse(String(form.get("payload_json") ?? "{}")) as Payload;
        for (const [field, value] of form.entries()) {
          if (typeof value === "string") continue;
          attachments.push({
            field,
            filename: value.name,
            contentType: value.type,
            data: Buffer.from(await value.arrayBuffer()),
          });
        }
      } else payload = JSON.parse(request.body.toString("utf8")) as Payload;
    } catch {
      return json(response, 400, { message: "The request body contains invalid JSON.", code: 50109 });
    }
    const content = typeof payload.content === "string" ? payload.content : "";
    const embeds = Array.isArray(payload.embeds) ? (payload.embeds as Record<string, unknown>[]) : [];
    if (!content && embeds.length === 0 && attachments.length === 0)
      return json(response, 400, { message: "Cannot send an empty message", code: 50006 });
    const errors = validate(content, embeds, payload.nonce);
    if (errors) return json(response, 400, { message: "Invalid Form Body", code: 50035, errors });
    // Webhook execution takes no nonce (it is not among its parameters): ignored there.
    const nonce =
      webhookId === null && (typeof payload.nonce === "string" || typeof payload.nonce === "number")
        ? String(payload.nonce)
        : null;
    const earlier =
      nonce && payload.enforce_nonce === true
        ? messages.find((m) => m.channelId === channelId && m.nonce === nonce && now() - m.createdAt < nonceWindowMs)
        : undefined;
    const message = earlier ?? record(channelId, webhookId, content, embeds, payload, nonce, attachments);
    if (webhookId !== null && !new URLSearchParams(request.path.split("?")[1] ?? "").has("wait"))
      return void response.writeHead(204).end();
    json(response, 200, toApiMessage(message));
  }

  function record(
    channelId: string,
    webhookId: string | null,
    content: string,
    embeds: Record<string, unknown>[],
    payload: Payload,
    nonce: string | null,
    attachments: EmulatedAttachment[],
  ): EmulatedMessage {
    const id = String(((BigInt(Date.now()) - 1420070400000n) << 22n) + BigInt(++sequence));
    const message: EmulatedMessage = {
      id,
      channelId,
      webhookId,
      content,
      embeds,
      allowed_mentions: payload.allowed_mentions,
      nonce,
      attachments,
      pings: pings(content, payload.allowed_mentions),
      createdAt: now(),
    };
    messages.push(message);
    return message;
  }

  function toApiMessage(message: EmulatedMessage): Record<string, unknown> {
    // As Discord's REST answers: no guild_id (only gateway events carry it).
    return {
      id: message.id,
      type: 0,
      channel_id: message.channelId,
      content: message.content,
      embeds: message.embeds,
      attachments: message.attachments.map((a, i) => ({
        id: String(i),
        filename: a.filename,
        size: a.data.length,
        content_type: a.contentType,
        url: `${emulator.url}/attachments/${a.filename}`,
      })),
      author: { id: message.webhookId ?? "555555555555555555", username: "Sundial", bot: true },
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: message.pings.everyone,
      mentions: [],
      mention_roles: message.pings.roles,
      pinned: false,
      flags: 0,
      components: [],
      ...(message.nonce ? { nonce: message.nonce } : {}),
      ...(message.webhookId ? { webhook_id: message.webhookId } : {}),
    };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      const index = faults.findIndex(
        (candidate) =>
          (!candidate.path || recorded.path.includes(candidate.path)) &&
          (!candidate.method || candidate.method === recorded.method),
      );
      const fault =
        index >= 0
          ? faults.splice(index, 1)[0]
          : recorded.method === "POST"
            ? (emulator.beforePost?.(recorded) ?? undefined)
            : undefined;
      const respond = (): void => {
        if (fault?.status === undefined) return void route(recorded, res);
        const retryAfter = fault.retryAfter ?? 0;
        const headers: Record<string, string> =
          fault.status === 429
            ? {
                "retry-after": String(retryAfter),
                "x-ratelimit-limit": "5",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset-after": String(retryAfter),
                "x-ratelimit-bucket": "emulated-bucket",
                "x-ratelimit-scope": "user",
              }
            : {};
        const body =
          fault.body ??
          JSON.stringify(
            fault.status === 429
              ? { message: "You are being rate limited.", retry_after: retryAfter, global: false }
              : { message: `${fault.status}: emulated failure`, code: 0 },
          );
        res.writeHead(fault.status, { "content-type": "application/json", ...headers });
        res.end(body);
      };
      if (fault?.delayMs) setTimeout(respond, fault.delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  emulator.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  return emulator;
}

export type DiscordEmulator = Awaited<ReturnType<typeof startDiscordEmulator>>;

/**
 * Discord's checks on a message body, as 50035 `errors` keyed by path (`embeds.0.description`
 * nests as { embeds: { 0: { description } } }); null when it would be accepted. The numbers are
 * Discord's documented limits (developer docs, "Embed Limits" and "Create Message").
 */
function validate(content: string, embeds: Record<string, unknown>[], nonce: unknown): Record<string, unknown> | null {
  const errors: Record<string, unknown> = {};
  if (content.length > 2000) errors.content = TOO_LONG(2000);
  if (typeof nonce === "string" && nonce.length > 25) errors.nonce = TOO_LONG(25);
  const embedErrors: Record<string, unknown> = {};
  let total = 0;
  const str = (value: unknown) => (typeof value === "string" ? value : "");
  embeds.forEach((embed, i) => {
    const fieldErrors: Record<string, unknown> = {};
    const check = (errorsAt: Record<string, unknown>, key: string, value: unknown, max: number) => {
      const text = str(value);
      total += text.length;
      if (text.length > max) errorsAt[key] = TOO_LONG(max);
    };
    check(fieldErrors, "title", embed.title, 256);
    check(fieldErrors, "description", embed.description, 4096);
    const footer = (embed.footer ?? {}) as Record<string, unknown>;
    const footerErrors: Record<string, unknown> = {};
    check(footerErrors, "text", footer.text, 2048);
    if (Object.keys(footerErrors).length) fieldErrors.footer = footerErrors;
    const author = (embed.author ?? {}) as Record<string, unknown>;
    const authorErrors: Record<string, unknown> = {};
    check(authorErrors, "name", author.name, 256);
    if (Object.keys(authorErrors).length) fieldErrors.author = authorErrors;
    const fields = Array.isArray(embed.fields) ? (embed.fields as Record<string, unknown>[]) : [];
    const fieldsErrors: Record<string, unknown> = {};
    fields.forEach((field, f) => {
      const one: Record<string, unknown> = {};
      check(one, "name", field.name, 256);
      check(one, "value", field.value, 1024);
      if (Object.keys(one).length) fieldsErrors[String(f)] = one;
    });
    if (fields.length > 25) fieldsErrors._errors = TOO_LONG(25)._errors;
    if (Object.keys(fieldsErrors).length) fieldErrors.fields = fieldsErrors;
    if (Object.keys(fieldErrors).length) embedErrors[String(i)] = fieldErrors;
  });
  if (embeds.length > 10) embedErrors._errors = TOO_LONG(10)._errors;
  else if (total > 6000)
    embedErrors._errors = [{ code: "MAX_EMBED_SIZE_EXCEEDED", message: "Embed size exceeds maximum size of 6000" }];
  if (Object.keys(embedErrors).length) errors.embeds = embedErrors;
  return Object.keys(errors).length ? errors : null;
}

/** Discord pings what `allowed_mentions` lets it parse; with no `allowed_mentions`, everything. */
function pings(content: string, allowed: unknown): EmulatedMessage["pings"] {
  const rules = (allowed ?? { parse: ["everyone", "users", "roles"] }) as {
    parse?: string[];
    users?: string[];
    roles?: string[];
  };
  const parse = new Set(rules.parse ?? []);
  const found = (pattern: RegExp) => [...content.matchAll(pattern)].map((match) => match[1] as string);
  return {
    everyone: parse.has("everyone") && /@(everyone|here)\b/.test(content),
    users: found(/<@!?(\d+)>/g).filter((id) => parse.has("users") || rules.users?.includes(id)),
    roles: found(/<@&(\d+)>/g).filter((id) => parse.has("roles") || rules.roles?.includes(id)),
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const limits =
    status < 300
      ? {
          "x-ratelimit-limit": "5",
          "x-ratelimit-remaining": "4",
          "x-ratelimit-reset-after": "5",
          "x-ratelimit-bucket": "emulated-bucket",
        }
      : {};
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...limits,
  });
  response.end(text);
}
