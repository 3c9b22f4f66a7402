/**
 * A daemon killed with SIGKILL while it posts a multi-message output to Discord: on the next start
 * the run resumes and every message is in the channel exactly once — through a webhook (no nonce:
 * each message is recorded as it is posted) and through a bot channel (the nonce covers a message
 * Discord kept but whose answer the daemon never read).
 */
import { afterEach, describe, expect, it } from "vitest";
import { CHANNEL_ID, startDiscordEmulator, type DiscordEmulator } from "../emulators/discord.ts";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

// Four messages per slot: the embed (title), then three paragraphs, each tagged with the slot.
const skill = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "digest",
  description: "posts a four-message digest",
  params: z.object({}),
  async run(ctx) {
    const tag = "[slot " + ctx.run.scheduledFor + "]";
    const parts = [0, 1, 2].map((i) => tag + " part " + i + " " + "words ".repeat(250));
    await ctx.deliver({ key: "digest", title: "Digest " + tag, summary: "Three parts.", markdown: parts.join("\\n\\n") });
  },
});
`;

let ws: Workspace | undefined;
let emulator: DiscordEmulator | undefined;
afterEach(async () => {
  await ws?.cleanup();
  await emulator?.close();
  ws = emulator = undefined;
});

describe("a daemon killed with SIGKILL while posting to Discord", () => {
  it.each([
    ["webhook", { to: "discord", webhookEnv: "DIGEST_WEBHOOK" }, false],
    ["bot channel", { to: "discord", channel: CHANNEL_ID }, true],
  ] as const)(
    "resumes the run and posts no message twice (%s)",
    { timeout: 120_000 },
    async (_, target, keptByDiscord) => {
      emulator = await startDiscordEmulator();
      const discord = emulator;
      ws = createWorkspace({
        skills: { digest: skill },
        schedules: {
          jobs: [{ id: "digest", skill: "digest", cron: "* * * * * *", catchUp: "none", deliver: [target] }],
        },
        env: { DISCORD_API_URL: discord.url, DISCORD_TOKEN: discord.token, DIGEST_WEBHOOK: discord.webhookUrl() },
      });
      const w = ws;
      const first = await w.start();
      let killed = false;
      // The second message of the first slot: the first is posted and recorded; the daemon dies now.
      // With a bot, Discord keeps this message though the daemon never reads the answer.
      discord.beforePost = () => {
        if (killed || discord.messages.length !== 1) return undefined;
        killed = true;
        process.kill(first.pid, "SIGKILL");
        return keptByDiscord ? { delayMs: 300 } : { status: 503, delayMs: 300 };
      };
      await first.exited;
      expect(killed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 400));
      discord.beforePost = null;
      const victim = w.runs("digest").find((run) => run.status === "running");
      expect(victim).toBeDefined();
      const tag = `[slot ${new Date(victim?.scheduled_for as number).toISOString()}]`;
      expect(discord.messages).toHaveLength(keptByDiscord ? 2 : 1);

      const second = await w.start();
      await waitFor(() => w.runs("digest").find((run) => run.resume_of === victim?.id && run.finished_at !== null), {
        timeoutMs: 60_000,
        what: "the resumed run to finish",
      });
      await second.stop("SIGTERM");

      const resumed = w.runs("digest").find((run) => run.resume_of === victim?.id);
      expect(resumed?.status).toBe("succeeded");
      const ofSlot = discord.messages.filter(
        (message) => message.content.startsWith(tag) || message.embeds.some((embed) => embed.title === `Digest ${tag}`),
      );
      const kinds = ofSlot.map((message) =>
        message.embeds.length ? "embed" : message.content.slice(tag.length + 1, tag.length + 7),
      );
      expect(kinds).toEqual(["embed", "part 0", "part 1", "part 2"]);
    },
  );
});
