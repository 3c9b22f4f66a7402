/**
 * @module emulators/discord-gateway — a loopback Discord gateway (v10, JSON, no compression) and
 * the REST routes a bot's gateway session uses, on top of the REST emulator (emulators/discord):
 * `GET /gateway/bot` answers this server's ws://127.0.0.1 URL; then HELLO, IDENTIFY (token and
 * intents checked: close 4004 / 4014), READY, GUILD_CREATE, heartbeats and ACKs, RESUME, and on
 * demand RECONNECT, INVALID_SESSION, a dropped connection and INTERACTION_CREATE (commands,
 * autocomplete, buttons). REST records command registration (PUT), interaction callbacks, edits
 * of the original answer and follow-ups.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { GUILD_ID, CHANNEL_ID, type DiscordEmulator, type RecordedRequest } from "./discord.ts";

export const APPLICATION_ID = "777777777777777777";
export const BOT_USER_ID = "555555555555555555";
export const OPERATOR_ID = "100000000000000001";
export const OPERATOR_ROLE_ID = "200000000000000002";
export const MEMBER_ID = "100000000000000009";

export interface RecordedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export interface Identify {
  token: string;
  intents: number;
}

type Option = { name: string; type: number; value?: unknown; focused?: boolean; options?: Option[] };

let sequence = 0;
const snowflake = () => String(((BigInt(Date.now()) - 1420070400000n) << 22n) + BigInt(++sequence));

export async function startDiscordGatewayEmulator(rest: DiscordEmulator, options: { intents?: number } = {}) {
  const sockets = new Set<WebSocket>();
  const sessions = new Map<string, WebSocket>();
  const identifies: Identify[] = [];
  const resumes: string[] = [];
  const commandPuts: RecordedCall[] = [];
  const callbacks: RecordedCall[] = [];
  const edits: RecordedCall[] = [];
  const followUps: RecordedCall[] = [];
  let seq = 0;
  const expectedIntents = options.intents ?? 1;

  const send = (socket: WebSocket, payload: Record<string, unknown>) =>
    socket.readyState === socket.OPEN && socket.send(JSON.stringify(payload));
  const dispatch = (socket: WebSocket, t: string, d: unknown) => send(socket, { op: 0, t, s: ++seq, d });

  const http = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server: http });
  wss.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    send(socket, { op: 10, d: { heartbeat_interval: 41_250 } });
    socket.on("message", (raw) => {
      const message = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> | number | null };
      const d = (message.d ?? {}) as Record<string, unknown>;
      if (message.op === 1) return send(socket, { op: 11 });
      if (message.op === 2) {
        identifies.push({ token: String(d.token), intents: Number(d.intents) });
        if (d.token !== rest.token) return socket.close(4004, "Authentication failed.");
        if (Number(d.intents) !== expectedIntents) return socket.close(4014, "Disallowed intent(s).");
        const session = snowflake();
        sessions.set(session, socket);
        dispatch(socket, "READY", {
          v: 10,
          user: {
            id: BOT_USER_ID,
            username: "Sundial",
            discriminator: "0",
            global_name: null,
            avatar: null,
            bot: true,
          },
          guilds: [{ id: GUILD_ID, unavailable: true }],
          session_id: session,
          resume_gateway_url: emulator.wsUrl,
          shard: [0, 1],
          application: { id: APPLICATION_ID, flags: 0 },
        });
        dispatch(socket, "GUILD_CREATE", guild());
        return;
      }
      if (message.op === 6) {
        resumes.push(String(d.session_id));
        if (!sessions.has(String(d.session_id)) || d.token !== rest.token) return send(socket, { op: 9, d: false });
        sessions.set(String(d.session_id), socket);
        return dispatch(socket, "RESUMED", null);
      }
    });
  });

  function guild() {
    return {
      id: GUILD_ID,
      name: "Emulated",
      icon: null,
      owner_id: OPERATOR_ID,
      unavailable: false,
      member_count: 3,
      large: false,
      features: [],
      joined_at: new Date().toISOString(),
      roles: [
        {
          id: GUILD_ID,
          name: "@everyone",
          color: 0,
          hoist: false,
          position: 0,
          permissions: "0",
          managed: false,
          mentionable: false,
          flags: 0,
        },
        {
          id: OPERATOR_ROLE_ID,
          name: "Operators",
          color: 0,
          hoist: false,
          position: 1,
          permissions: "0",
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      channels: [
        { id: CHANNEL_ID, type: 0, name: "general", guild_id: GUILD_ID, position: 0, permission_overwrites: [] },
      ],
      members: [],
      emojis: [],
      stickers: [],
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      premium_tier: 0,
      system_channel_flags: 0,
      verification_level: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      default_message_notifications: 0,
      preferred_locale: "en-US",
    };
  }

  const body = (request: RecordedRequest): Record<string, unknown> => {
    if (!request.body.length) return {};
    const type = request.headers["content-type"] ?? "";
    if (String(type).startsWith("multipart/form-data")) {
      const text = request.body.toString("utf8");
      const match = /name="payload_json"\r\n(?:Content-Type: [^\r]*\r\n)?\r\n([\s\S]*?)\r\n--/.exec(text);
      return match ? (JSON.parse(match[1] as string) as Record<string, unknown>) : {};
    }
    return JSON.parse(request.body.toString("utf8")) as Record<string, unknown>;
  };
  const answer = (response: ServerResponse, status: number, value?: unknown) => {
    if (value === undefined) return void response.writeHead(status).end();
    const text = JSON.stringify(value);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    response.end(text);
  };
  const messageOf = (call: RecordedCall) => ({
    id: snowflake(),
    type: 19,
    channel_id: CHANNEL_ID,
    content: call.body.content ?? "",
    embeds: call.body.embeds ?? [],
    components: call.body.components ?? [],
    attachments: [],
    mentions: [],
    mention_roles: [],
    author: { id: APPLICATION_ID, username: "Sundial", discriminator: "0", avatar: null, bot: true },
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    pinned: false,
    flags: call.body.flags ?? 0,
    webhook_id: APPLICATION_ID,
    application_id: APPLICATION_ID,
  });

  rest.extraRoute = (request, response) => {
    const [path = "", search = ""] = request.path.split("?");
    const call = (): RecordedCall => ({
      method: request.method,
      path,
      query: new URLSearchParams(search),
      body: body(request),
    });
    if (path === "/api/v10/gateway/bot" && request.method === "GET") {
      if (request.headers.authorization !== `Bot ${rest.token}`)
        return (answer(response, 401, { message: "401: Unauthorized", code: 0 }), true);
      answer(response, 200, {
        url: emulator.wsUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
      return true;
    }
    if (
      new RegExp(`^/api/v10/applications/${APPLICATION_ID}(/guilds/\\d+)?/commands$`).test(path) &&
      request.method === "PUT"
    ) {
      if (request.headers.authorization !== `Bot ${rest.token}`)
        return (answer(response, 401, { message: "401: Unauthorized", code: 0 }), true);
      const recorded = call();
      commandPuts.push(recorded);
      const list = recorded.body as unknown as Record<string, unknown>[];
      answer(
        response,
        200,
        list.map((command) => ({ ...command, id: snowflake(), application_id: APPLICATION_ID, version: snowflake() })),
      );
      return true;
    }
    if (/^\/api\/v10\/interactions\/\d+\/[^/]+\/callback$/.test(path) && request.method === "POST") {
      callbacks.push(call());
      answer(response, 204);
      return true;
    }
    const hook = new RegExp(`^/api/v10/webhooks/${APPLICATION_ID}/([^/]+)(/messages/(?:@|%40)original)?$`).exec(path);
    if (hook) {
      const recorded = call();
      if (hook[2] && request.method === "PATCH") edits.push(recorded);
      else if (!hook[2] && request.method === "POST") followUps.push(recorded);
      else return false;
      answer(response, 200, messageOf(recorded));
      return true;
    }
    return false;
  };

  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const member = (userId: string, roles: string[]) => ({
    user: {
      id: userId,
      username: userId === OPERATOR_ID ? "operator" : "member",
      discriminator: "0",
      global_name: null,
      avatar: null,
    },
    roles,
    permissions: "2251799813685247",
    joined_at: new Date().toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
    nick: null,
    avatar: null,
    pending: false,
    premium_since: null,
  });
  const base = (type: number, userId: string, roles: string[]) => {
    const id = snowflake();
    const token = `interaction-token-${id}`;
    return {
      id,
      token,
      type,
      application_id: APPLICATION_ID,
      guild_id: GUILD_ID,
      channel_id: CHANNEL_ID,
      channel: { id: CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: "general" },
      member: member(userId, roles),
      version: 1,
      app_permissions: "2251799813685247",
      locale: "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: { "0": GUILD_ID },
      context: 0,
    };
  };
  const toAll = (payload: Record<string, unknown>) => {
    for (const socket of sockets) send(socket, payload);
  };

  const emulator = {
    wsUrl: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    identifies,
    resumes,
    commandPuts,
    callbacks,
    edits,
    followUps,
    /** Open gateway connections. */
    connections: () => sockets.size,
    /** Sends `/sundial <sub>` with these options as `userId` (with `roles`); returns the interaction. */
    command(
      sub: string,
      options: Record<string, string | number | boolean> = {},
      userId = OPERATOR_ID,
      roles: string[] = [],
    ) {
      const types: Record<string, number> = { job: 3, reason: 3, run: 4, dry: 5 };
      const interaction = {
        ...base(2, userId, roles),
        data: {
          id: snowflake(),
          name: "sundial",
          type: 1,
          guild_id: GUILD_ID,
          options: [
            {
              name: sub,
              type: 1,
              options: Object.entries(options).map(([name, value]) => ({ name, type: types[name] ?? 3, value })),
            },
          ],
        },
      };
      for (const socket of sockets) dispatch(socket, "INTERACTION_CREATE", interaction);
      return interaction;
    },
    /** An autocomplete request for `job` of `/sundial <sub>`, `typed` so far. */
    autocomplete(sub: string, typed: string, userId = MEMBER_ID) {
      const focused: Option = { name: "job", type: 3, value: typed, focused: true };
      const interaction = {
        ...base(4, userId, []),
        data: { id: snowflake(), name: "sundial", type: 1, options: [{ name: sub, type: 1, options: [focused] }] },
      };
      for (const socket of sockets) dispatch(socket, "INTERACTION_CREATE", interaction);
      return interaction;
    },
    /** A click on the button `customId` of `message` (a message as the REST emulator keeps it). */
    button(
      customId: string,
      message: { id: string; content: string; embeds: unknown[] },
      userId = OPERATOR_ID,
      roles: string[] = [],
    ) {
      const interaction = {
        ...base(3, userId, roles),
        data: { custom_id: customId, component_type: 2 },
        message: {
          id: message.id,
          type: 0,
          channel_id: CHANNEL_ID,
          content: message.content,
          embeds: message.embeds,
          components: [],
          attachments: [],
          mentions: [],
          mention_roles: [],
          author: { id: BOT_USER_ID, username: "Sundial", discriminator: "0", avatar: null, bot: true },
          timestamp: new Date().toISOString(),
          edited_timestamp: null,
          tts: false,
          mention_everyone: false,
          pinned: false,
          flags: 0,
        },
      };
      for (const socket of sockets) dispatch(socket, "INTERACTION_CREATE", interaction);
      return interaction;
    },
    /** Asks every client to reconnect (op 7). */
    reconnect: () => toAll({ op: 7, d: null }),
    /** Op 9: the session is invalid (`resumable` says whether RESUME may be tried). */
    invalidSession: (resumable = false) => toAll({ op: 9, d: resumable }),
    /** Cuts every connection without a close frame, as a network failure does. */
    drop: () => {
      for (const socket of sockets) socket.terminate();
    },
    callbacksFor: (interaction: { id: string }) =>
      callbacks.filter((call) => call.path.includes(`/interactions/${interaction.id}/`)),
    editsFor: (interaction: { token: string }) => edits.filter((call) => call.path.includes(`/${interaction.token}/`)),
    followUpsFor: (interaction: { token: string }) =>
      followUps.filter((call) => call.path.endsWith(`/${interaction.token}`)),
    close(): Promise<void> {
      for (const socket of sockets) socket.terminate();
      wss.close();
      http.closeAllConnections();
      return new Promise((resolve) => http.close(() => resolve()));
    },
  };
  return emulator;
}

export type DiscordGatewayEmulator = Awaited<ReturnType<typeof startDiscordGatewayEmulator>>;
