/**
 * The gateway is never in the way of the schedule: with a wrong token, or with the gateway dropped
 * mid-session (and RECONNECT / INVALID_SESSION sent), a real daemon keeps firing, never crashes,
 * reconnects, and `/healthz` says `degraded` with the reason while Discord is not usable.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";
import { GUILD_ID, startDiscordEmulator, type DiscordEmulator } from "../emulators/discord.ts";
import {
  MEMBER_ID,
  OPERATOR_ID,
  startDiscordGatewayEmulator,
  type DiscordGatewayEmulator,
} from "../emulators/discord-gateway.ts";

const tick = `
import { defineSkill, z } from "sundial";
export default defineSkill({ name: "tick", description: "tick", params: z.object({}), async run() { return { title: "tick", markdown: "tick" }; } });
`;

let ws: Workspace | undefined;
let rest: DiscordEmulator | undefined;
let gateway: DiscordGatewayEmulator | undefined;
afterEach(async () => {
  await ws?.cleanup();
  await gateway?.close();
  await rest?.close();
  ws = rest = gateway = undefined;
});

type Health = { status: string; checks: { discord: { status: string; message?: string } } };
const healthOf = async (url: string) => (await (await fetch(`${url}/healthz`)).json()) as Health;

async function setUp(token: string) {
  rest = await startDiscordEmulator();
  gateway = await startDiscordGatewayEmulator(rest);
  ws = createWorkspace({
    skills: { tick },
    schedules: {
      jobs: [{ id: "tick", skill: "tick", cron: "* * * * * *", catchUp: "none", deliver: [{ to: "stdout" }] }],
    },
    env: {
      DISCORD_TOKEN: token,
      DISCORD_API_URL: rest.url,
      SUNDIAL_DISCORD_COMMANDS: "on",
      DISCORD_GUILD_ID: GUILD_ID,
      SUNDIAL_DISCORD_OPERATORS: OPERATOR_ID,
    },
  });
  return { daemon: await ws.start(), gateway, ws };
}

describe("Discord gateway failures", () => {
  it(
    "a wrong token: the daemon keeps firing and delivering, /healthz is degraded with the reason, the token never shows",
    { timeout: 90_000 },
    async () => {
      const { daemon, ws: w, gateway: g } = await setUp("wrong-token-SECRET-123");
      const health = await waitFor(
        async () => {
          const body = await healthOf(daemon.url);
          return body.checks.discord.message?.includes("rejected") ? body : null;
        },
        { what: "health degraded by the rejected token" },
      );
      expect(health.status).toBe("degraded");
      expect(health.checks.discord.status).toBe("degraded");
      expect(health.checks.discord.message).toContain("DISCORD_TOKEN");
      expect(g.commandPuts).toHaveLength(0);
      const before = w.runs("tick").filter((run) => run.status === "succeeded").length;
      await waitFor(() => w.runs("tick").filter((run) => run.status === "succeeded").length >= before + 3, {
        what: "three more runs",
      });
      expect(daemon.stdout()).toContain("tick");
      expect(daemon.lines.join("\n")).not.toContain("SECRET-123");
      expect(JSON.stringify(health)).not.toContain("SECRET-123");
    },
  );

  it(
    "the gateway dropped mid-session, RECONNECT and INVALID_SESSION: no crash, the schedule keeps firing, health degrades then recovers, commands answer again",
    { timeout: 120_000 },
    async () => {
      const { daemon, ws: w, gateway: g } = await setUp("emulated-bot-token");
      await waitFor(() => g.commandPuts.length === 1, { what: "registration" });
      await waitFor(async () => (await healthOf(daemon.url)).checks.discord.status === "ok", { what: "discord ok" });

      g.drop();
      await waitFor(async () => (await healthOf(daemon.url)).checks.discord.status === "degraded", {
        what: "discord degraded after the drop",
        intervalMs: 20,
      });
      const runsAtDrop = w.runs("tick").length;
      await waitFor(() => g.resumes.length + g.identifies.length > 1 && g.connections() > 0, {
        what: "a reconnection",
      });
      await waitFor(async () => (await healthOf(daemon.url)).checks.discord.status === "ok", {
        what: "discord ok again",
      });

      g.reconnect();
      await waitFor(() => g.resumes.length >= 2 && g.connections() > 0, { what: "a resume after RECONNECT" });
      g.invalidSession(false);
      await waitFor(() => g.identifies.length >= 2 && g.connections() > 0, {
        what: "a new identify after INVALID_SESSION",
      });
      // A storm: dropped again and again.
      for (let i = 0; i < 5; i++) {
        g.drop();
        await new Promise((done) => setTimeout(done, 150));
      }
      await waitFor(() => g.connections() > 0, { what: "connected after the storm", timeoutMs: 60_000 });
      await waitFor(async () => (await healthOf(daemon.url)).checks.discord.status === "ok", {
        what: "discord ok after the storm",
        timeoutMs: 60_000,
      });

      const answered = g.command("jobs", {}, MEMBER_ID);
      await waitFor(() => g.callbacksFor(answered)[0], { what: "an answer after the reconnections" });
      expect(w.runs("tick").length).toBeGreaterThan(runsAtDrop + 2);
      expect(daemon.logs().some((log) => log.level === 60)).toBe(false);
      const exit = await daemon.stop("SIGTERM");
      expect(exit.code).toBe(0);
    },
  );
});
