/**
 * @module discord-commands/gateway — the daemon's Discord gateway connection (discord.js, Guilds
 * intent only): logs in, registers `/sundial` by bulk overwrite, answers interactions, and keeps
 * out of the schedule's way. Every failure (wrong token, gateway down, invalid session, a
 * reconnect storm) is caught, retried with backoff and shown in `/healthz` as `degraded`; none can
 * stop the daemon.
 */
import type { Logger } from "pino";
import type { Check } from "../http/health.ts";
import type { InteractionDeps } from "./interactions.ts";
import type { DiscordCommandSettings } from "./settings.ts";

export interface DiscordGateway {
  /** `checks.discord` of /healthz. */
  check(): Check;
  close(): Promise<void>;
}

export interface GatewayOptions extends Omit<InteractionDeps, "operators"> {
  settings: DiscordCommandSettings;
  log: Logger;
  /** First retry delay after a failed login; doubles to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** Starts connecting in the background and returns at once: the daemon never waits on Discord. */
export function startDiscordGateway(options: GatewayOptions): DiscordGateway {
  const { settings, log } = options;
  let state: Check = { status: "degraded", message: "connecting to the Discord gateway" };
  let closed = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let client: import("discord.js").Client | null = null;
  let failures = 0;
  const degrade = (message: string) => {
    state = { status: "degraded", message };
  };

  const scheduleRetry = (why: string, rejected: boolean) => {
    if (closed) return;
    failures++;
    // A rejected token will not start working on its own: retry it rarely.
    const base = rejected ? Math.max(60_000, options.backoffMs ?? 1000) : (options.backoffMs ?? 1000);
    const delay = Math.min(options.maxBackoffMs ?? 300_000, base * 2 ** Math.min(failures - 1, 16));
    degrade(`${why}; retrying in ${Math.round(delay / 1000)} s`);
    log.warn({ retryInMs: delay }, `discord: ${why}`);
    retryTimer = setTimeout(
      () =>
        void connect().catch((error: unknown) =>
          scheduleRetry(`starting the Discord client failed: ${String(error)}`, false),
        ),
      delay,
    );
    retryTimer.unref();
  };

  async function connect(): Promise<void> {
    if (closed) return;
    // discord.js (and the answers, which use it) only when the commands are on: a daemon without them never loads it.
    const [discord, { handleInteraction }, { SUNDIAL_COMMANDS }] = await Promise.all([
      import("discord.js"),
      import("./interactions.ts"),
      import("./definition.ts"),
    ]);
    const { Client, Events, GatewayIntentBits, Routes } = discord;
    const next = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { api: settings.api },
      allowedMentions: { parse: [] },
    });
    client = next;
    next.on(Events.Error, (error) => log.error({ err: error.message }, "discord: client error"));
    next.on(Events.ShardError, (error) => {
      log.error({ err: error.message }, "discord: gateway error");
      if (/Authentication failed/i.test(error.message)) {
        void next.destroy();
        scheduleRetry("Discord rejected the token at the gateway (close code 4004); check DISCORD_TOKEN", true);
      }
    });
    next.on(Events.ShardDisconnect, (event) =>
      degrade(`the Discord gateway connection closed (code ${event.code}); reconnecting`),
    );
    next.on(Events.ShardReconnecting, () => degrade("reconnecting to the Discord gateway"));
    next.on(Events.Invalidated, () => {
      void next.destroy();
      scheduleRetry("the Discord session was invalidated", false);
    });
    next.on(Events.ShardResume, () => (state = { status: "ok", user: next.user?.tag }));
    next.on(Events.ShardReady, () => {
      if (next.application) state = { status: "ok", user: next.user?.tag };
    });
    next.on(
      Events.InteractionCreate,
      (interaction) => void handleInteraction(interaction, { ...options, operators: settings.operators }),
    );
    next.once(Events.ClientReady, async (ready) => {
      try {
        const route = settings.guildId
          ? Routes.applicationGuildCommands(ready.application.id, settings.guildId)
          : Routes.applicationCommands(ready.application.id);
        await ready.rest.put(route, { body: SUNDIAL_COMMANDS });
        failures = 0;
        state = {
          status: "ok",
          user: ready.user.tag,
          commands: settings.guildId ? `guild ${settings.guildId}` : "global",
        };
        log.info(
          { user: ready.user.tag, guild: settings.guildId ?? "global" },
          "discord: connected; /sundial registered",
        );
      } catch (error) {
        degrade(
          `connected, but registering /sundial failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        log.error({ err: String(error) }, "discord: registering /sundial failed");
      }
    });
    try {
      await next.login(settings.token);
    } catch (error) {
      void next.destroy();
      const message = error instanceof Error ? error.message : String(error);
      const rejected = (error as { code?: string }).code === "TokenInvalid";
      scheduleRetry(
        rejected ? "Discord rejected DISCORD_TOKEN (401); check the bot token" : `cannot reach Discord: ${message}`,
        rejected,
      );
    }
  }
  void connect().catch((error: unknown) =>
    scheduleRetry(`starting the Discord client failed: ${String(error)}`, false),
  );

  return {
    check: () => state,
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await client?.destroy().catch(() => undefined);
    },
  };
}
