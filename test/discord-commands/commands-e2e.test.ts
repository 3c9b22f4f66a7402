/**
 * `/sundial` end to end: a real daemon logs in to the loopback gateway, registers the command by
 * bulk overwrite and answers every subcommand through the same controls as the API; changes are
 * refused to non-operators; a slow `run` is deferred, then edited when the run ends.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";
import { GUILD_ID, startDiscordEmulator, type DiscordEmulator } from "../emulators/discord.ts";
import {
  MEMBER_ID,
  OPERATOR_ID,
  OPERATOR_ROLE_ID,
  startDiscordGatewayEmulator,
  type DiscordGatewayEmulator,
} from "../emulators/discord-gateway.ts";

const quick = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "quick", description: "quick", params: z.object({}),
  async run(ctx) { await ctx.step("work", async () => 1); return { title: "quick", markdown: "done *quickly* @everyone" }; },
});
`;
const slow = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "slow", description: "slow", params: z.object({}),
  async run(ctx) { await ctx.step("wait", () => new Promise((done) => setTimeout(() => done(1), 4000))); return { title: "slow", markdown: "slowly" }; },
});
`;
const NEVER = "0 0 1 1 *";

let ws: Workspace | undefined;
let rest: DiscordEmulator | undefined;
let gateway: DiscordGatewayEmulator | undefined;
afterEach(async () => {
  await ws?.cleanup();
  await gateway?.close();
  await rest?.close();
  ws = rest = gateway = undefined;
});

async function setUp(extraEnv: Record<string, string> = {}) {
  rest = await startDiscordEmulator();
  gateway = await startDiscordGatewayEmulator(rest);
  ws = createWorkspace({
    skills: { quick, slow },
    schedules: {
      jobs: [
        { id: "quick-job", skill: "quick", cron: NEVER, deliver: [{ to: "stdout" }] },
        { id: "slow-job", skill: "slow", cron: NEVER, deliver: [{ to: "stdout" }] },
      ],
    },
    env: {
      DISCORD_TOKEN: rest.token,
      DISCORD_API_URL: rest.url,
      SUNDIAL_DISCORD_COMMANDS: "on",
      DISCORD_GUILD_ID: GUILD_ID,
      SUNDIAL_DISCORD_OPERATORS: `${OPERATOR_ID},${OPERATOR_ROLE_ID}`,
      ...extraEnv,
    },
  });
  const daemon = await ws.start();
  const g = gateway;
  await waitFor(() => g.commandPuts.length === 1, { what: "the command registration" });
  return { daemon, rest, gateway: g, ws };
}

type Callback = {
  type: number;
  data?: {
    embeds?: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
    flags?: number;
    allowed_mentions?: unknown;
    choices?: { name: string; value: string }[];
  };
};
const text = (embed: NonNullable<NonNullable<Callback["data"]>["embeds"]>[number] | undefined) =>
  JSON.stringify(embed ?? {});

describe("/sundial over the gateway", () => {
  it(
    "identifies with the Guilds intent only and registers /sundial in the guild by bulk overwrite, hidden by default",
    { timeout: 90_000 },
    async () => {
      const { gateway: g } = await setUp();
      expect(g.identifies).toEqual([{ token: rest?.token, intents: 1 }]);
      const put = g.commandPuts[0];
      expect(put?.method).toBe("PUT");
      expect(put?.path).toBe(`/api/v10/applications/777777777777777777/guilds/${GUILD_ID}/commands`);
      const [command] = put?.body as unknown as {
        name: string;
        default_member_permissions: string;
        options: { name: string; options: { name: string; autocomplete?: boolean }[] }[];
      }[];
      expect(command?.name).toBe("sundial");
      expect(command?.default_member_permissions).toBe("0");
      expect(command?.options.map((o) => o.name)).toEqual([
        "status",
        "jobs",
        "runs",
        "show",
        "run",
        "pause",
        "resume",
        "cancel",
      ]);
      expect(command?.options.find((o) => o.name === "run")?.options.map((o) => o.name)).toEqual(["job", "dry"]);
      expect(
        command?.options.find((o) => o.name === "pause")?.options.find((o) => o.name === "job")?.autocomplete,
      ).toBe(true);
    },
  );

  it(
    "answers status, jobs, runs, show and autocomplete to anyone, ephemeral and without pings",
    { timeout: 90_000 },
    async () => {
      const { gateway: g, daemon, ws: w } = await setUp();
      const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as {
        checks: { discord: { status: string } };
      };
      expect(health.checks.discord.status).toBe("ok");

      const answer = async (interaction: { id: string }) =>
        (await waitFor(() => g.callbacksFor(interaction)[0], { what: "the answer" })).body as unknown as Callback;
      const status = await answer(g.command("status", {}, MEMBER_ID));
      expect(status.type).toBe(4);
      expect(status.data?.flags).toBe(64);
      expect(status.data?.allowed_mentions).toEqual({ parse: [] });
      expect(status.data?.embeds?.[0]?.title).toBe("Sundial: ok");

      const jobs = await answer(g.command("jobs", {}, MEMBER_ID));
      expect(jobs.data?.embeds?.[0]?.description).toContain("**quick-job**");
      expect(jobs.data?.embeds?.[0]?.description).toContain("**slow-job**");

      const complete = await answer(g.autocomplete("run", "qui"));
      expect(complete.type).toBe(8);
      expect(complete.data?.choices).toEqual([{ name: "quick-job", value: "quick-job" }]);

      // A run through the CLI, then read from Discord.
      expect((await w.runCli(["run", "quick-job"])).code).toBe(0);
      const [run] = w.runs("quick-job");
      const runs = await answer(g.command("runs", { job: "quick-job" }, MEMBER_ID));
      expect(runs.data?.embeds?.[0]?.description).toContain(`#${run?.id}`);
      const show = await answer(g.command("show", { run: run?.id ?? 0 }, MEMBER_ID));
      const shown = text(show.data?.embeds?.[0]);
      expect(shown).toContain(`Run #${run?.id} of quick-job`);
      expect(shown).toContain("succeeded");
      expect(shown).toContain("work");
      expect(shown).toContain("Cost");
      const missing = await answer(g.command("show", { run: 99999 }, MEMBER_ID));
      expect(text(missing.data?.embeds?.[0])).toContain("There is no run #99999");
    },
  );

  it(
    "lets operators (by user or by role) pause, resume and cancel, and refuses everyone else with a logged attempt",
    { timeout: 90_000 },
    async () => {
      const { gateway: g, daemon } = await setUp();
      const answer = async (interaction: { id: string }) =>
        (await waitFor(() => g.callbacksFor(interaction)[0], { what: "the answer" })).body as unknown as Callback;
      const jobView = async () =>
        (
          (await (
            await fetch(`${daemon.url}/api/v1/jobs/quick-job`, { headers: { authorization: `Bearer ${apiToken()}` } })
          ).json()) as { job: { paused: boolean; pausedReason: string | null } }
        ).job;

      const refused = await answer(g.command("pause", { job: "quick-job" }, MEMBER_ID));
      expect(text(refused.data?.embeds?.[0])).toContain("only Sundial's operators");
      expect(refused.data?.flags).toBe(64);
      expect((await jobView()).paused).toBe(false);
      await waitFor(
        () => daemon.logs().some((log) => String(log.msg).includes("not an operator") && log.user === MEMBER_ID),
        { what: "the refusal logged" },
      );

      const paused = await answer(g.command("pause", { job: "quick-job", reason: "holiday" }, OPERATOR_ID));
      expect(text(paused.data?.embeds?.[0])).toContain("Paused quick");
      expect(await jobView()).toMatchObject({ paused: true, pausedReason: "holiday" });

      const resumed = await answer(g.command("resume", { job: "quick-job" }, MEMBER_ID, [OPERATOR_ROLE_ID]));
      expect(text(resumed.data?.embeds?.[0])).toContain("Resumed quick");
      expect((await jobView()).paused).toBe(false);

      const unknown = await answer(g.command("pause", { job: "no-such-job" }, OPERATOR_ID));
      expect(text(unknown.data?.embeds?.[0])).toContain("Not done (`not_found`): no job");

      // Cancel a running slow run.
      const started = g.command("run", { job: "slow-job" }, OPERATOR_ID);
      await waitFor(() => g.editsFor(started).length >= 1, { what: "the run started" });
      const runId = await waitFor(() => ws?.runs("slow-job").find((run) => run.status === "running")?.id, {
        what: "a running slow run",
      });
      const refusedCancel = await answer(g.command("cancel", { run: runId }, MEMBER_ID));
      expect(text(refusedCancel.data?.embeds?.[0])).toContain("only Sundial's operators");
      const cancelled = await answer(g.command("cancel", { run: runId }, OPERATOR_ID));
      expect(text(cancelled.data?.embeds?.[0])).toContain(`Run #${runId} is cancelled`);
      await waitFor(() => ws?.runs("slow-job").find((run) => run.id === runId)?.status === "cancelled", {
        what: "the run cancelled",
      });
    },
  );

  it("defers a slow run within 3 s, then edits the answer with the finished run", { timeout: 90_000 }, async () => {
    const { gateway: g, daemon } = await setUp();
    const started = Date.now();
    const interaction = g.command("run", { job: "slow-job" }, OPERATOR_ID);
    const deferred = await waitFor(() => g.callbacksFor(interaction)[0], { what: "the deferral" });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(deferred.body).toEqual({ type: 5, data: { flags: 64 } });
    const final = await waitFor(
      () => g.editsFor(interaction).find((edit) => JSON.stringify(edit.body).includes("succeeded")),
      { what: "the answer edited with the result", timeoutMs: 30_000 },
    ).catch((error: unknown) => {
      throw new Error(
        `${String(error)}\nedits: ${JSON.stringify(g.editsFor(interaction))}\nfollow-ups: ${JSON.stringify(g.followUps)}\nlogs: ${daemon.lines.slice(-20).join("\n")}`,
      );
    });
    expect(final.method).toBe("PATCH");
    expect(JSON.stringify(final.body)).toContain("Run #");
    expect((final.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [] });
  });
});

function apiToken(): string {
  return readFileSync(`${ws?.dataDir}/api-token`, "utf8").trim();
}
