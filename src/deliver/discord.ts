/**
 * @module discord — the Discord delivery: posts an output to a channel (bot token) or a webhook
 * through @discordjs/rest, as messages within Discord's limits that ping nobody.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { errorMessage, MissingCredentialError, ServiceError } from "../errors.ts";
import { raceAbort } from "../util/abort.ts";
import type { DeliveryAdapter, DeliveryContext, Env, Output, Receipt } from "../types.ts";
import { envNameSchema } from "../config/fields.ts";
import { defineDelivery } from "./define.ts";
import { alertButtons } from "../discord-commands/buttons.ts";
import { buildDiscordMessages, renderDiscordPreview, type DiscordMessagePlan } from "./discord-messages.ts";

export const DISCORD = "discord";
const snowflake = z.string().regex(/^\d{17,20}$/, { message: "expected a Discord id (17 to 20 digits, as a string)" });
const schema = z
  .strictObject({ to: z.literal(DISCORD), channel: snowflake.optional(), webhookEnv: envNameSchema.optional() })
  .refine((t) => Boolean(t.channel) !== Boolean(t.webhookEnv), {
    message: 'give either "channel" (with DISCORD_TOKEN) or "webhookEnv", not both or neither',
  });
export type DiscordTarget = z.output<typeof schema>;

export interface DiscordDeliveryOptions {
  /** Per-request timeout; default 15 s. */
  timeoutMs?: number;
  /** Further attempts after a 5xx, a timeout or a reset connection; default 3. */
  retries?: number;
  /** Rate limits (429) waited out per message before the delivery fails; default 3. */
  rateLimitRetries?: number;
  /** Longest rate-limit wait accepted; a longer one fails at once (retryable); default 30 s. */
  maxRateLimitWaitMs?: number;
}

const DEFAULT_API = "https://discord.com/api";
const WEBHOOK_PATH = /\/webhooks\/(\d+)\/([\w-]+)\/?$/;
const MessageSchema = z.object({ id: z.string(), channel_id: z.string() });
const GuildSchema = z.object({ guild_id: z.string().nullish() });
type PostedMessage = z.infer<typeof MessageSchema>;
type RestModule = typeof import("@discordjs/rest");
type RoutesOf = (typeof import("discord-api-types/v10"))["Routes"];

/** The answer to a post is not a message object (not JSON, or JSON of another shape). */
class NotAMessageError extends SyntaxError {}

interface Destination {
  /** Names the destination in errors: "channel 123", "webhook from DIGEST_WEBHOOK". */
  where: string;
  post: `/${string}`;
  /** The channel or webhook object, which knows the guild. */
  info: `/${string}`;
  token: string | null;
  query?: URLSearchParams;
  /** Never to appear in an error message. */
  secrets: string[];
  /** The variable to check when Discord refuses the credentials. */
  credentialVar: string;
}

interface Progress {
  destination: Destination;
  sent: number;
  total: number;
  lastStatus: number;
  rateLimitWaitMs: number;
  rateLimitTooLong: boolean;
}

function configError(message: string): ServiceError {
  return new ServiceError({ service: "Discord", message });
}

function destinationOf(target: DiscordTarget, env: Env, routes: RoutesOf): Destination {
  if (target.channel && target.webhookEnv)
    throw configError("a discord target takes either channel or webhookEnv, not both");
  if (target.channel) {
    const token = env.DISCORD_TOKEN;
    if (!token)
      throw new MissingCredentialError({
        service: "Discord",
        variable: "DISCORD_TOKEN",
        why: `it is needed to post to channel ${target.channel}`,
      });
    const id = encodeURIComponent(target.channel);
    return {
      where: `channel ${target.channel}`,
      post: routes.channelMessages(id),
      info: routes.channel(id),
      token,
      secrets: [token],
      credentialVar: "DISCORD_TOKEN",
    };
  }
  if (!target.webhookEnv) throw configError("a discord target needs channel (with DISCORD_TOKEN) or webhookEnv");
  const where = `webhook from ${target.webhookEnv}`;
  const value = env[target.webhookEnv];
  if (!value)
    throw new MissingCredentialError({
      service: "Discord",
      variable: target.webhookEnv,
      why: "it should hold the webhook URL",
    });
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below, without the value
  }
  const [, id, token] = (url && WEBHOOK_PATH.exec(url.pathname)) || [];
  if (!url || !id || !token)
    throw configError(
      `${target.webhookEnv} does not hold a webhook URL of the form https://discord.com/api/webhooks/<id>/<token>`,
    );
  const query = new URLSearchParams({ wait: "true" });
  const thread = url.searchParams.get("thread_id");
  if (thread) query.set("thread_id", thread);
  const route = routes.webhook(id, token);
  return {
    where,
    post: route,
    info: route,
    token: null,
    query,
    secrets: [value, token],
    credentialVar: target.webhookEnv,
  };
}

/**
 * One nonce per message of this exact output from this job: with `enforce_nonce`, Discord answers a
 * repeated post (a retried run) within its dedupe window with the message it already has.
 */
function noncesFor(ctx: DeliveryContext, output: Output, plan: DiscordMessagePlan): string[] {
  const files = plan.messages.map((message) => message.files.map((file) => [file.name, file.data.byteLength]));
  const identity = JSON.stringify([ctx.job, output.key ?? null, plan.messages.map((message) => message.body), files]);
  return plan.messages.map((_, index) =>
    createHash("sha256").update(`${index}:${identity}`).digest("base64url").slice(0, 25),
  );
}

export function discordDelivery(options: DiscordDeliveryOptions = {}): DeliveryAdapter<DiscordTarget> {
  const { timeoutMs = 15_000, retries = 3, rateLimitRetries = 3, maxRateLimitWaitMs = 30_000 } = options;
  /** Guilds read, by the attempt's signal (one per run attempt, shared by its deliveries) and destination. */
  const guilds = new WeakMap<AbortSignal, Map<string, Promise<string | null>>>();
  /**
   * The destination's guild, read once per run attempt: outputs go to Discord one at a time, so
   * each request saved here shortens the wait of every output behind it. A failed read is not kept.
   */
  const guildFor = (read: () => Promise<string | null>, ctx: DeliveryContext, destination: Destination) => {
    let known = guilds.get(ctx.signal);
    if (!known) guilds.set(ctx.signal, (known = new Map()));
    const key = `${ctx.env.DISCORD_API_URL ?? ""}\u0000${destination.info}`;
    let guild = known.get(key);
    if (!guild) {
      const reading = read();
      known.set(key, reading);
      reading.catch(() => known.delete(key));
      guild = reading;
    }
    return guild;
  };
  let sdkModules: Promise<[RestModule, typeof import("discord-api-types/v10")]> | undefined;
  // Loaded on first use (most runs never post to Discord), once per adapter.
  const loadSdk = () => (sdkModules ??= Promise.all([import("@discordjs/rest"), import("discord-api-types/v10")]));
  return {
    name: DISCORD,
    oneAtATime: true,
    async prepare() {
      await loadSdk();
    },

    async preview(output, target, ctx) {
      const where = target.channel
        ? `channel ${target.channel}`
        : `webhook from ${target.webhookEnv ?? "(no webhookEnv)"}`;
      return renderDiscordPreview(buildDiscordMessages(output, ctx.earlier), where);
    },

    async deliver(output, target, ctx): Promise<Receipt> {
      ctx.signal.throwIfAborted();
      const plan = buildDiscordMessages(output, ctx.earlier);
      if (plan.messages.length === 0)
        throw configError("the output has nothing to post (no title, summary, text or image)");
      const [sdk, { Routes }] = await loadSdk();
      ctx.signal.throwIfAborted();
      const destination = destinationOf(target, ctx.env, Routes);

      const progress: Progress = {
        destination,
        sent: 0,
        total: plan.messages.length,
        lastStatus: 0,
        rateLimitWaitMs: 0,
        rateLimitTooLong: false,
      };
      let rateLimits = 0;
      const rest = new sdk.REST({
        api: (ctx.env.DISCORD_API_URL || DEFAULT_API).replace(/\/+$/, ""),
        version: "10",
        retries,
        timeout: timeoutMs,
        // One REST per delivery: no sweeper timers to outlive it.
        hashSweepInterval: 0,
        handlerSweepInterval: 0,
        // The SDK waits out every 429 as Discord says, without end: bound how often and how long.
        rejectOnRateLimit: (data) => {
          progress.rateLimitWaitMs = Math.max(data.retryAfter, data.timeToReset);
          progress.rateLimitTooLong = progress.rateLimitWaitMs > maxRateLimitWaitMs;
          return progress.rateLimitTooLong || rateLimits > rateLimitRetries;
        },
        makeRequest: async (url, init) => {
          const response = await sdk.DefaultRestOptions.makeRequest(url, init);
          progress.lastStatus = response.status;
          if (response.status === 429) rateLimits++;
          return response;
        },
      });
      if (destination.token) rest.setToken(destination.token);
      const auth = destination.token !== null;

      const sent: PostedMessage[] = [];
      const nonces = noncesFor(ctx, output, plan);
      let guild: string | null;
      try {
        // The guild is read first: between a post and its record nothing slow may happen, or a crash
        // there re-posts on resume. A channel or webhook that cannot be read cannot be posted to either.
        guild = await guildFor(() => guildOf(rest, destination, auth, ctx.signal), ctx, destination);
        for (const [index, message] of plan.messages.entries()) {
          ctx.signal.throwIfAborted();
          rateLimits = 0;
          const post = async (): Promise<PostedMessage> => {
            // Bots: with the nonce enforced, a repeated post within Discord's few-minute window returns
            // the first message. Webhook execution takes no nonce, so there only the record below helps.
            let body: Record<string, unknown> = auth
              ? { ...message.body, nonce: nonces[index], enforce_nonce: true }
              : message.body;
            // Buttons only from the bot (Discord allows interactive components only on messages an
            // application sends), on the last message of a failure alert, and only when the daemon answers them.
            if (
              auth &&
              output.alertFor &&
              index === plan.messages.length - 1 &&
              ctx.env.SUNDIAL_DISCORD_COMMANDS?.trim().toLowerCase() === "on"
            )
              body = { ...body, components: alertButtons(output.alertFor) };
            const files = message.files.map((file) => ({ name: file.name, data: file.data }));
            const request = rest.post(destination.post, {
              body,
              files,
              query: destination.query,
              auth,
              signal: ctx.signal,
            });
            const parsed = MessageSchema.safeParse(await raceAbort(request, ctx.signal));
            if (!parsed.success) throw new NotAMessageError("a body that is not a message object");
            return { id: parsed.data.id, channel_id: parsed.data.channel_id };
          };
          // Each message is recorded as soon as it is posted: a retry or a resumed run posts only the rest.
          const posted = ctx.step ? await ctx.step(`message-${index + 1}`, post) : await post();
          sent.push(posted);
          progress.sent = sent.length;
          ctx.log.debug({ message: index + 1, of: plan.messages.length, id: posted.id }, "discord message posted");
        }
      } catch (error) {
        if (sent.length > 0)
          ctx.log.warn({ posted: sent.length, of: plan.messages.length }, "discord delivery stopped part-way");
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw describeFailure(error, sdk, progress, { timeoutMs, retries, rateLimitRetries, maxRateLimitWaitMs });
      }

      const first = sent[0] as PostedMessage;
      return {
        to: DISCORD,
        url: `https://discord.com/channels/${guild ?? "@me"}/${first.channel_id}/${first.id}`,
        detail: {
          messageIds: sent.map((message) => message.id),
          channelId: first.channel_id,
          ...(plan.notAttached.length ? { notAttached: plan.notAttached } : {}),
        },
      };
    },
  };
}

/** The guild of the channel or webhook (null for a DM); a refusal fails the delivery before anything is posted. */
async function guildOf(
  rest: InstanceType<RestModule["REST"]>,
  destination: Destination,
  auth: boolean,
  signal: AbortSignal,
): Promise<string | null> {
  const parsed = GuildSchema.safeParse(await raceAbort(rest.get(destination.info, { auth, signal }), signal));
  // An odd answer only makes the link use "@me".
  return parsed.success ? (parsed.data.guild_id ?? null) : null;
}

/** A ServiceError naming Discord, the cause and the destination, with every secret removed. */
function describeFailure(
  error: unknown,
  sdk: RestModule,
  progress: Progress,
  limits: Required<DiscordDeliveryOptions>,
): ServiceError {
  const { destination } = progress;
  const partial = progress.sent ? `; ${progress.sent} of ${progress.total} messages were posted` : "";
  const fail = (message: string, status: number | undefined, retryable: boolean): ServiceError => {
    const text = destination.secrets.reduce(
      (acc, secret) => acc.split(secret).join("[redacted]"),
      `${message} (${destination.where}${partial})`,
    );
    return new ServiceError({ service: "Discord", message: text, status, retryable });
  };
  if (error instanceof ServiceError) return error;
  if (error instanceof sdk.RateLimitError) {
    const seconds = (progress.rateLimitWaitMs / 1000).toFixed(1);
    const why = progress.rateLimitTooLong
      ? `Discord asked to wait ${seconds}s, longer than the ${limits.maxRateLimitWaitMs / 1000}s allowed`
      : `still rate limited after ${limits.rateLimitRetries} waits`;
    return fail(`429 Too Many Requests: ${why}`, 429, true);
  }
  if (error instanceof sdk.DiscordAPIError) {
    const hint =
      error.status === 401
        ? ` — check ${destination.credentialVar}`
        : error.code === 10015
          ? ` — check the webhook URL in ${destination.credentialVar}`
          : "";
    return fail(
      `${error.status} ${error.message
        .replace(/^\d{3}: /, "")
        .split("\n")
        .join("; ")}${hint}`,
      error.status,
      error.status === 429 || error.status >= 500,
    );
  }
  if (error instanceof sdk.HTTPError)
    return fail(
      `${error.status} ${error.message || "server error"} after ${limits.retries + 1} attempts`,
      error.status,
      true,
    );
  if (error instanceof SyntaxError) {
    // A 2xx with a body we cannot read: the message may well be posted, so a retry could post it twice.
    const status = progress.lastStatus;
    const posted = status < 300 ? "; the message may have been posted, so this is not retried" : "";
    const what = error instanceof NotAMessageError ? error.message : `malformed JSON: ${error.message}`;
    return fail(`answered ${status} with ${what}${posted}`, status, false);
  }
  if (error instanceof Error && error.name === "AbortError")
    return fail(`no answer within ${limits.timeoutMs} ms, ${limits.retries + 1} attempts`, undefined, true);
  const code = (error as { code?: unknown }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;
  return fail(`cannot reach the API: ${typeof code === "string" ? code : errorMessage(error)}`, undefined, true);
}

export const discordDefinition = defineDelivery({
  name: DISCORD,
  schema,
  requiredEnv: (target) => [
    ...(target.channel ? ["DISCORD_TOKEN"] : []),
    ...(target.webhookEnv ? [target.webhookEnv] : []),
  ],
  create: () => discordDelivery(),
});
