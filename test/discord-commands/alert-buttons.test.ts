/**
 * Failure alerts the bot posts to a channel carry Show run / Run again / Pause job buttons (when
 * Discord commands are on); clicking them on the real alert works for operators only.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";
import { CHANNEL_ID, GUILD_ID, startDiscordEmulator, type DiscordEmulator } from "../emulators/discord.ts";
import {
  MEMBER_ID,
  OPERATOR_ID,
  startDiscordGatewayEmulator,
  type DiscordGatewayEmulator,
} from "../emulators/discord-gateway.ts";

const broken = `
import { defineSkill, z } from "sundial";
export default defineSkill({ name: "broken", description: "fails", params: z.object({}), async run() { throw new Error("the feed is gone"); } });
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

type Body = {
  components?: { type: number; components: { custom_id: string; label: string; type: number; style: number }[] }[];
  embeds?: unknown[];
};

describe("alert buttons", () => {
  it(
    "a failure alert gains the three buttons; operators can show, run again and pause from it, others are refused",
    { timeout: 120_000 },
    async () => {
      rest = await startDiscordEmulator();
      gateway = await startDiscordGatewayEmulator(rest);
      const r = rest;
      const g = gateway;
      ws = createWorkspace({
        skills: { broken },
        schedules: {
          alerts: [{ to: "discord", channel: CHANNEL_ID }],
          jobs: [
            {
              id: "broken-job",
              skill: "broken",
              cron: "*/2 * * * * *",
              catchUp: "none",
              retries: 0,
              deliver: [{ to: "stdout" }],
            },
          ],
        },
        env: {
          DISCORD_TOKEN: r.token,
          DISCORD_API_URL: r.url,
          SUNDIAL_DISCORD_COMMANDS: "on",
          DISCORD_GUILD_ID: GUILD_ID,
          SUNDIAL_DISCORD_OPERATORS: OPERATOR_ID,
        },
      });
      const w = ws;
      const daemon = await w.start();
      const alertPost = await waitFor(
        () =>
          r.requests.find(
            (req) =>
              req.method === "POST" &&
              req.path.endsWith(`/channels/${CHANNEL_ID}/messages`) &&
              req.body.toString("utf8").includes('"components"'),
          ),
        { what: "the failure alert" },
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${daemon.lines.slice(-15).join("\n")}`);
      });
      const body = JSON.parse(alertPost.body.toString("utf8")) as Body;
      const buttons = body.components?.[0]?.components ?? [];
      expect(body.components?.[0]?.type).toBe(1);
      expect(buttons.map((b) => b.label)).toEqual(["Show run", "Run again", "Pause job"]);
      expect(buttons.every((b) => b.type === 2 && b.custom_id.length <= 100)).toBe(true);
      const failedRun = w.runs("broken-job").find((run) => run.status === "failed");
      expect(buttons[0]?.custom_id).toBe(`sundial:show:${failedRun?.id}`);
      // The alert is several messages; only its last carries the buttons.
      const alertMessages = r.messages.filter((m) => m.channelId === CHANNEL_ID);
      expect(alertMessages.length).toBeGreaterThanOrEqual(1);
      const message = alertMessages.at(-1);
      if (!message) throw new Error("no alert message recorded");
      const answer = async (interaction: { id: string }) =>
        (await waitFor(() => g.callbacksFor(interaction)[0], { what: "the answer" })).body as {
          type: number;
          data?: { flags?: number; embeds?: unknown[] };
        };

      const refused = await answer(g.button(buttons[2]?.custom_id ?? "", message, MEMBER_ID));
      expect(JSON.stringify(refused.data?.embeds)).toContain("only Sundial's operators");
      await waitFor(() => daemon.logs().some((log) => String(log.msg).includes("not an operator")), {
        what: "the refusal logged",
      });

      const shown = await answer(g.button(buttons[0]?.custom_id ?? "", message, OPERATOR_ID));
      expect(shown.data?.flags).toBe(64);
      expect(JSON.stringify(shown.data?.embeds)).toContain("the feed is gone");

      const manualBefore = w.runs("broken-job").filter((run) => run.trigger === "manual").length;
      const again = g.button(buttons[1]?.custom_id ?? "", message, OPERATOR_ID);
      expect((await answer(again)).type).toBe(5);
      await waitFor(() => w.runs("broken-job").filter((run) => run.trigger === "manual").length === manualBefore + 1, {
        what: "a new manual run",
      });

      const paused = await answer(g.button(buttons[2]?.custom_id ?? "", message, OPERATOR_ID));
      expect(JSON.stringify(paused.data?.embeds)).toContain("Paused broken");
      const jobs = await w.runCli(["list", "--json"]);
      expect(jobs.stdout).toMatch(/"paused":\s*true/);
    },
  );
});
