/**
 * @module outbound-secrets.test — a step error carrying secrets (raw, JSON-escaped, URL-encoded, a
 * `webhookEnv` value under an arbitrary name, URL userinfo) and terminal escapes: `sundial run`'s
 * summary, the failure alert the Discord emulator receives, the ledger and `runs`/`show` carry none
 * of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { startDiscordEmulator, type DiscordEmulator } from "../emulators/discord.ts";
import { createWorkspace, type CliResult, type Workspace } from "../helpers/workspace.ts";

// A key with a quote and a backslash: JSON writes it as `\"` and `\\`.
const API_KEY = 'fake-key"with\\quote-0123456789';
const USERINFO_PASSWORD = "hunter2-userinfo-pass";

const leaky = `
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "leaky",
  description: "fails with secrets and terminal escapes in its error",
  params: z.object({}),
  async run(ctx) {
    const key = process.env.ANTHROPIC_API_KEY ?? "";
    const hook = process.env.MY_HOOK_URL ?? "";
    await ctx.step("explode", async () => {
      throw new Error([
        "raw " + key,
        "json " + JSON.stringify({ key }),
        "url " + encodeURIComponent(key),
        "hook " + hook,
        "feed https://bob:${USERINFO_PASSWORD}@feeds.example.test/rss",
        "\\x1b[2J\\x1b[Hfake: all good",
        "\\x1b]8;;https://evil.example.test\\x07click me\\x1b]8;;\\x07",
        "bidi \\u202eevil",
      ].join(" | "));
    });
    return { title: "never", markdown: "never" };
  },
});
`;

let emulator: DiscordEmulator;
let ws: Workspace;
let hookUrl: string;
let run: CliResult;
beforeAll(async () => {
  emulator = await startDiscordEmulator();
  hookUrl = emulator.webhookUrl();
  ws = createWorkspace({
    skills: { leaky },
    schedules: {
      alerts: [{ to: "discord", webhookEnv: "MY_HOOK_URL" }],
      jobs: [{ id: "leaky", skill: "leaky", cron: "0 0 1 1 *", retries: 0, deliver: [{ to: "stdout" }] }],
    },
    env: { ANTHROPIC_API_KEY: API_KEY, MY_HOOK_URL: hookUrl, DISCORD_API_URL: emulator.url },
  });
  run = await ws.runCli(["run", "leaky"], {}, 120_000);
}, 150_000);
afterAll(async () => {
  await ws?.cleanup();
  await emulator?.close();
});

/** Every form of a secret that must not appear. */
function leaks(text: string): string[] {
  const forms = {
    raw: API_KEY,
    json: JSON.stringify(API_KEY).slice(1, -1),
    url: encodeURIComponent(API_KEY),
    hook: hookUrl,
    hookToken: hookUrl.split("/").at(-1) as string,
    userinfo: USERINFO_PASSWORD,
  };
  return Object.entries(forms)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name);
}
// eslint-disable-next-line no-control-regex -- the test looks for control characters
const ESCAPES = /[\x1b\x07\u009b\u202e]/;

describe("a failing run whose error carries secrets and terminal escapes", () => {
  it("`sundial run` prints a summary without any form of the secrets and without escapes", () => {
    expect(run.code, run.stderr).toBe(1);
    const summary = run.stderr.split("\n").find((line) => line.startsWith("run #1 failed"));
    expect(summary, run.stderr).toBeDefined();
    expect(summary).toContain("raw [redacted]");
    expect(summary).toContain("hook [redacted]");
    expect(summary).toContain("feed https://feeds.example.test/rss");
    expect(leaks(run.stderr + run.stdout)).toEqual([]);
    expect(run.stderr + run.stdout).not.toMatch(ESCAPES);
  });

  it("the failure alert reaches Discord with the error scrubbed: no form of a secret (webhookEnv MY_HOOK_URL included), no escapes", () => {
    const bodies = emulator.requests.map((request) => request.body.toString("utf8"));
    expect(emulator.messages.length).toBeGreaterThan(0);
    const alert = emulator.messages.map((message) => JSON.stringify(message)).join("\n");
    expect(alert).toContain("job leaky failed");
    expect(alert).toContain("[redacted]");
    expect(leaks(bodies.join("\n"))).toEqual([]);
    expect(leaks(alert)).toEqual([]);
    expect(bodies.join("\n")).not.toMatch(ESCAPES);
  });

  it("the ledger stores the error without secrets or escapes", () => {
    const db = new Database(ws.dbFile, { readonly: true, fileMustExist: true });
    try {
      const texts = [
        ...(db.prepare("SELECT error FROM runs").all() as { error: string | null }[]).map((row) => row.error ?? ""),
        ...(db.prepare("SELECT error FROM steps").all() as { error: string | null }[]).map((row) => row.error ?? ""),
      ];
      expect(texts.join("\n")).toContain("fake: all good");
      expect(leaks(texts.join("\n"))).toEqual([]);
      expect(texts.join("\n")).not.toMatch(ESCAPES);
    } finally {
      db.close();
    }
  });
});

describe("runs and show print stored text without terminal escapes", () => {
  it(
    "a row written with escapes (by an older version) never reaches the CLI's output as escapes",
    { timeout: 120_000 },
    async () => {
      const hostile = "boom\x1b[2J\x1b[H\x1b]8;;https://evil.example.test\x07fake row\x1b]8;;\x07\x9b31m\u202eevil\r";
      const db = new Database(ws.dbFile, { fileMustExist: true });
      try {
        db.prepare("UPDATE runs SET error = ? WHERE id = 1").run(hostile);
        db.prepare("UPDATE steps SET error = ?, step_id = ? WHERE run_id = 1").run(hostile, "step\x1b[31m");
      } finally {
        db.close();
      }
      const outputs = await Promise.all([
        ws.runCli(["runs"]),
        ws.runCli(["show", "1"]),
        ws.runCli(["runs", "--json"]),
        ws.runCli(["show", "1", "--json"]),
      ]);
      for (const result of outputs) {
        expect(result.code, result.stderr).toBe(0);
        // eslint-disable-next-line no-control-regex -- the test looks for control characters
        expect(result.stdout).not.toMatch(/[\x1b\x07\x9b\u202e\r]/);
        expect(result.stdout).toContain("fake row");
      }
      // JSON keeps the text exact, escaped as JSON.
      expect((JSON.parse(outputs[3]!.stdout) as { error: string }).error).toBe(hostile);
    },
  );
});
