/**
 * @module discord-commands/settings — the Discord command variables (SUNDIAL_DISCORD_COMMANDS,
 * DISCORD_TOKEN, DISCORD_GUILD_ID, SUNDIAL_DISCORD_OPERATORS) read and checked, for the daemon and
 * for `sundial check`.
 */
import type { Env } from "../types.ts";

export interface DiscordCommandSettings {
  token: string;
  /** Where the REST API is (DISCORD_API_URL, the gateway URL is asked of it). */
  api: string;
  guildId: string | null;
  /** User or role ids allowed to change anything; empty = nobody. */
  operators: Set<string>;
}

const SNOWFLAKE = /^\d{17,20}$/;

/** Problems with the variables, each saying what is wrong and how to fix it (empty when fine). */
export function discordCommandProblems(env: Env): string[] {
  const problems: string[] = [];
  const mode = env.SUNDIAL_DISCORD_COMMANDS?.trim().toLowerCase() || "off";
  if (mode !== "on" && mode !== "off")
    problems.push(`SUNDIAL_DISCORD_COMMANDS must be "on" or "off", not "${env.SUNDIAL_DISCORD_COMMANDS}"`);
  if (mode === "on" && !env.DISCORD_TOKEN?.trim())
    problems.push(
      "SUNDIAL_DISCORD_COMMANDS=on needs DISCORD_TOKEN (the bot's token, from the Developer Portal's Bot page)",
    );
  const guild = env.DISCORD_GUILD_ID?.trim();
  if (guild && !SNOWFLAKE.test(guild))
    problems.push(
      `DISCORD_GUILD_ID must be a server id (17 to 20 digits; right-click the server, Copy Server ID), not "${guild}"`,
    );
  for (const id of splitIds(env.SUNDIAL_DISCORD_OPERATORS)) {
    if (!SNOWFLAKE.test(id))
      problems.push(
        `SUNDIAL_DISCORD_OPERATORS must list user or role ids (17 to 20 digits, comma-separated); "${id}" is not one`,
      );
  }
  return problems;
}

function splitIds(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean);
}

/** The settings when commands are on, null when off; throws with every problem when invalid. */
export function discordCommandSettings(env: Env): DiscordCommandSettings | null {
  const problems = discordCommandProblems(env);
  if (problems.length) throw new Error(problems.join("; "));
  if ((env.SUNDIAL_DISCORD_COMMANDS?.trim().toLowerCase() || "off") !== "on") return null;
  return {
    token: (env.DISCORD_TOKEN ?? "").trim(),
    api: (env.DISCORD_API_URL?.trim() || "https://discord.com/api").replace(/\/+$/, ""),
    guildId: env.DISCORD_GUILD_ID?.trim() || null,
    operators: new Set(splitIds(env.SUNDIAL_DISCORD_OPERATORS)),
  };
}
