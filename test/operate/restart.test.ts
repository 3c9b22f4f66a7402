/**
 * Controls that outlive the daemon process: a pause kept in the ledger across a restart (its slots
 * recorded `skipped`, reason `paused`), the token file reused, daemon.json written and removed,
 * a retry-waiting run cancelled, and the redelivery of a failed Discord delivery after a restart
 * that sends only that target, on the same row, with the output's onDelivered run once.
 */
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";
import { CHANNEL_ID, startDiscordEmulator } from "../emulators/discord.ts";
import { apiClient, TOKEN } from "./helpers.ts";

const tick = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "tick",
  description: "nothing much",
  params: z.object({}),
  async run() {
    return { title: "tick", markdown: "tick" };
  },
});
`;

// Fails with a retryable error, so it waits a long time between attempts.
const flaky = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "flaky",
  description: "always fails, retryably",
  params: z.object({}),
  async run() {
    throw new Error("upstream answered 503");
  },
});
`;

// One output to a file, then to Discord; onDelivered counts in the job's state.
const post = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "post",
  description: "one output, two targets",
  params: z.object({}),
  async run(ctx) {
    const text = await ctx.step("compose", async () => "hello operators");
    return {
      title: "post",
      markdown: text,
      key: "only",
      onDelivered: async () => {
        await ctx.state.set("delivered", (ctx.state.get("delivered") ?? 0) + 1);
      },
    };
  },
});
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe("controls across restarts", () => {
  it(
    "keeps a pause across a restart: each slot is one `skipped`/`paused` row; the token file is reused; daemon.json comes and goes",
    { timeout: 120_000 },
    async () => {
      ws = createWorkspace({
        skills: { tick },
        schedules: { jobs: [{ id: "tick", skill: "tick", cron: "* * * * * *", catchUp: "none" }] },
      });
      const w = ws;
      let daemon = await w.start();
      const tokenPath = join(w.dataDir, "api-token");
      expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenPath, "utf8").trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(daemon.lines.join("\n")).not.toContain(token);
      expect(JSON.parse(readFileSync(join(w.dataDir, "daemon.json"), "utf8"))).toEqual({
        url: daemon.url,
        pid: daemon.pid,
      });

      const paused = await apiClient(daemon.url, token)<{ job: { paused: boolean } }>("POST", "/jobs/tick/pause", {
        reason: "deploy",
      });
      expect(paused.body.job.paused).toBe(true);
      const pausedAt = Date.now();
      expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
      expect(existsSync(join(w.dataDir, "daemon.json"))).toBe(false);

      daemon = await w.start();
      const restartedAt = Date.now();
      expect(readFileSync(tokenPath, "utf8").trim()).toBe(token);
      await waitFor(
        () => w.runs("tick").filter((run) => run.scheduled_for > restartedAt && run.status === "skipped").length >= 3,
        { timeoutMs: 30_000, what: "three paused slots after the restart" },
      );
      const after = w.runs("tick").filter((run) => run.scheduled_for > pausedAt + 1000);
      for (const run of after) expect(run).toMatchObject({ status: "skipped", reason: "paused", started_at: null });
      // Still one row per slot: consecutive seconds, none missing, none twice.
      const slots = after.filter((run) => run.scheduled_for > restartedAt).map((run) => run.scheduled_for);
      expect(new Set(slots).size).toBe(slots.length);

      const api = apiClient(daemon.url, token);
      expect(
        (await api<{ job: { paused: boolean; pausedReason: string } }>("GET", "/jobs/tick")).body.job,
      ).toMatchObject({ paused: true, pausedReason: "deploy" });
      await api("POST", "/jobs/tick/resume");
      const resumedAt = Date.now();
      await waitFor(() => w.runs("tick").some((run) => run.status === "succeeded" && run.scheduled_for > resumedAt), {
        timeoutMs: 30_000,
        what: "a run after resume",
      });
    },
  );

  it(
    "cancels a run queued for a free slot (it never starts) and a run waiting for its retry (not retried, not resumed)",
    { timeout: 90_000 },
    async () => {
      ws = createWorkspace({
        skills: { flaky, tick },
        schedules: {
          maxConcurrentRuns: 1,
          jobs: [
            { id: "flaky", skill: "flaky", cron: "0 0 1 1 *", catchUp: "none", retries: 5, retryBackoff: "10m" },
            { id: "tick", skill: "tick", cron: "0 0 1 1 *", catchUp: "none" },
          ],
        },
        env: { SUNDIAL_API_TOKEN: TOKEN },
      });
      const w = ws;
      const daemon = await w.start();
      const api = apiClient(daemon.url);
      const { body } = await api<{ run: { id: number } }>("POST", "/jobs/flaky/run", {});
      const id = body.run.id;
      await waitFor(() => w.runs("flaky").find((run) => run.id === id && run.status === "retrying"), {
        what: "the run to wait for its retry",
      });

      // The only run slot is taken by the retry-waiting run: this one waits for it.
      const queued = await api<{ run: { id: number; status: string } }>("POST", "/jobs/tick/run", {});
      expect(queued.body.run.status).toBe("queued");
      expect((await api("POST", `/runs/${queued.body.run.id}/cancel`)).status).toBe(202);
      expect(w.runs("tick")).toMatchObject([{ id: queued.body.run.id, status: "cancelled", started_at: null }]);

      expect((await api("POST", `/runs/${id}/cancel`)).status).toBe(202);
      const run = await waitFor(() => w.runs("flaky").find((r) => r.id === id && r.status === "cancelled"), {
        what: "the cancelled row",
      });
      expect(run.attempt).toBe(1);
      expect(run.finished_at).not.toBeNull();

      // Neither is picked up again: not by the freed slot, not by a restart.
      await daemon.stop("SIGTERM");
      await w.start();
      await new Promise((done) => setTimeout(done, 1500));
      expect(w.runs().map((r) => [r.id, r.status])).toEqual([
        [id, "cancelled"],
        [queued.body.run.id, "cancelled"],
      ]);
    },
  );

  it(
    "redelivers only the failed Discord target after a restart, on the same row, with onDelivered once",
    { timeout: 120_000 },
    async () => {
      const discord = await startDiscordEmulator();
      try {
        ws = createWorkspace({
          skills: { post },
          schedules: {
            jobs: [
              {
                id: "post",
                skill: "post",
                cron: "0 0 1 1 *",
                catchUp: "none",
                retries: 0,
                deliver: [
                  { to: "file", path: "out/{job}-{time}.md" },
                  { to: "discord", channel: CHANNEL_ID },
                ],
              },
            ],
          },
          env: { SUNDIAL_API_TOKEN: TOKEN, DISCORD_API_URL: discord.url, DISCORD_TOKEN: discord.token },
        });
        const w = ws;
        let daemon = await w.start();
        discord.failNext(1, { status: 403 });
        const { body } = await apiClient(daemon.url)<{ run: { id: number } }>("POST", "/jobs/post/run", {});
        const id = body.run.id;
        type Detail = {
          status: string;
          delivery: string;
          deliveries: { to: string; status: string; url: string | null; error: string | null }[];
        };
        const failed = await waitFor(
          async () => {
            const { body: shown } = await apiClient(daemon.url)<{ run: Detail }>("GET", `/runs/${id}`);
            return shown.run.status === "failed" ? shown.run : null;
          },
          { what: "the run to fail on Discord" },
        );
        expect(failed.delivery).toBe("partial");
        expect(failed.deliveries).toEqual([
          { to: "file", status: "succeeded", url: expect.stringMatching(/^file:/), error: null },
          { to: "discord", status: "failed", url: null, error: expect.stringMatching(/.+/) },
        ]);
        expect(discord.messages).toHaveLength(0);
        const shownText = await w.runCli(["show", String(id)]);
        expect(shownText.stdout).toMatch(/delivery\s+partial/);
        expect(shownText.stdout).toMatch(/failed\s+discord/);

        await daemon.stop("SIGTERM");
        daemon = await w.start();
        const api = apiClient(daemon.url);
        expect((await api("POST", `/runs/${id}/redeliver`)).status).toBe(202);
        const done = await waitFor(
          async () => {
            const { body: shown } = await api<{ run: Detail }>("GET", `/runs/${id}`);
            return shown.run.status === "succeeded" ? shown.run : null;
          },
          { timeoutMs: 30_000, what: "the redelivered run" },
        );
        expect(done.delivery).toBe("delivered");
        expect(done.deliveries.map((d) => [d.to, d.status])).toEqual([
          ["file", "succeeded"],
          ["discord", "succeeded"],
        ]);
        // One delivery of the output (an embed with the title, then the text), sent once.
        expect(discord.messages).toHaveLength(2);
        expect(discord.messages.filter((m) => m.content.includes("hello operators"))).toHaveLength(1);
        expect(readdirSync(join(w.dataDir, "deliveries", "out"))).toHaveLength(1);
        expect(w.runs("post")).toHaveLength(1);
        expect(
          w
            .query<{ value: string }>("SELECT value FROM job_state WHERE job = 'post' AND key = 'delivered'")
            .map((row) => JSON.parse(row.value)),
        ).toEqual([1]);

        const again = await api<{ error: { code: string } }>("POST", `/runs/${id}/redeliver`);
        expect(again.status).toBe(409);
        expect(again.body.error.code).toBe("nothing_to_redeliver");
      } finally {
        await discord.close();
      }
    },
  );
});
