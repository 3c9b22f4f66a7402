/**
 * Secrets from the environment never reach the daemon's logs or the ledger's bytes, even when a
 * skill logs them, returns them from a step and throws them in its error: "[redacted]" stands in.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";

const secrets = {
  ANTHROPIC_API_KEY: "fake-anthropic-e2e-7f3a9c1b2d4e6f80",
  GITHUB_TOKEN: "ghp_e2eFAKEtoken9Qz8Xw7Vu6Ts5Rq4",
  DIGEST_WEBHOOK: "http://127.0.0.1:9/api/webhooks/424242/e2e-FAKE-webhook-Zy9",
};

const leaky = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "leaky",
  description: "does everything wrong with secrets",
  params: z.object({}),
  async run(ctx) {
    const values = [process.env.ANTHROPIC_API_KEY, process.env.GITHUB_TOKEN, process.env.DIGEST_WEBHOOK];
    ctx.log.info({ values, apiKey: values[0] }, "the secrets are " + values.join(" / "));
    ctx.log.warn("webhook at " + values[2]);
    await ctx.step("remember", async () => ({ all: values.join(",") }));
    await ctx.step("explode", async () => {
      throw new Error("step failed with " + values.join(" and "));
    });
    return { title: "never", markdown: "never" };
  },
});
`;

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

function leaksIn(bytes: Buffer | string): string[] {
  const text = typeof bytes === "string" ? bytes : bytes.toString("latin1");
  return Object.entries(secrets)
    .filter(([, value]) => text.includes(value))
    .map(([name]) => name);
}

describe("secrets in the environment", () => {
  it(
    "are replaced by [redacted] in stderr and in the SQLite files (db and WAL), whatever the skill does with them",
    { timeout: 90_000 },
    async () => {
      ws = createWorkspace({
        skills: { leaky },
        schedules: { jobs: [{ id: "leaky", skill: "leaky", cron: "* * * * * *", retries: 0 }] },
        env: secrets,
      });
      const w = ws;
      const daemon = await w.start();
      const failed = await waitFor(() => w.runs("leaky").filter((run) => run.status === "failed")[1], {
        timeoutMs: 30_000,
        what: "two failed runs",
      });

      // The ledger recorded the failure, scrubbed.
      expect(failed.error).toContain("[redacted]");
      expect(failed.error).toMatch(/^step failed with \[redacted\] and \[redacted\] and \[redacted\]$/);
      const steps = w.steps(failed.id);
      expect(steps.find((s) => s.step_id === "remember")?.result).toContain("[redacted]");
      expect(steps.find((s) => s.step_id === "explode")?.error).toContain("[redacted]");

      // Raw bytes while the daemon runs: the WAL holds the newest pages. Every file must be there to be checked.
      const wal = `${w.dbFile}-wal`;
      for (const file of [w.dbFile, wal, `${w.dbFile}-shm`]) {
        expect(existsSync(file), `${file} exists while the daemon runs`).toBe(true);
        expect(leaksIn(readFileSync(file)), file).toEqual([]);
      }
      // The WAL really holds the failed runs' rows (so checking it proves something): their scrubbed error text.
      expect(readFileSync(wal).toString("latin1")).toContain("step failed with [redacted]");

      expect(await daemon.stop("SIGTERM")).toEqual({ code: 0, signal: null });
      const stderr = daemon.lines.join("\n");
      expect(leaksIn(stderr)).toEqual([]);
      expect(stderr).toContain("[redacted]");
      // The skill's own log lines were written, with the values replaced.
      expect(
        daemon
          .logs()
          .some(
            (log) =>
              typeof log.msg === "string" && log.msg.startsWith("the secrets are [redacted] / [redacted] / [redacted]"),
          ),
      ).toBe(true);
      expect(daemon.logs().some((log) => log.msg === "webhook at [redacted]")).toBe(true);
      expect(daemon.stdout()).toBe("");
      // After a clean stop the WAL is checkpointed into the database file, which must exist and hold no secret.
      expect(existsSync(w.dbFile)).toBe(true);
      expect(readFileSync(w.dbFile).toString("latin1")).toContain("step failed with [redacted]");
      expect(leaksIn(readFileSync(w.dbFile))).toEqual([]);
    },
  );
});
