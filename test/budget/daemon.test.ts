/**
 * Budgets in a real daemon process against the Anthropic emulator: a job firing every second spends
 * until its top-level perDay cannot cover another call; that call is never sent, the run fails with
 * the budget error, later slots are recorded skipped with `budget: …, resets …`, the 80% and spent
 * alerts reach the alert target once each; `sundial costs` and `/metrics` report the same spend.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createWorkspace, waitFor, type Workspace } from "../helpers/workspace.ts";
import { openSqliteStore } from "../../src/ledger/sqlite.ts";
import { startAnthropicEmulator, type AnthropicEmulator } from "../emulators/anthropic.ts";

const API_KEY = "fake-anthropic-budget-daemon-0123456789";
const SKILL = `import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "ask",
  description: "One Claude call per run.",
  params: z.object({}),
  retries: 0,
  async run(ctx) {
    const text = await ctx.step("ask", () => ctx.claude.text({ prompt: "Say hi.", maxTokens: 600 }));
    return { title: "Answer", markdown: text };
  },
});
`;

let emulator: AnthropicEmulator;
let ws: Workspace | undefined;
beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: API_KEY });
});
afterAll(() => emulator.close());
afterEach(async () => {
  await ws?.cleanup();
  emulator.reset();
});

describe("budgets in the daemon", () => {
  it("stops before the call that would pass perDay, skips later slots, alerts at 80% and when spent, once each", async () => {
    // Each answer is 500 output tokens ($0.005 on claude-sonnet-5-5); each call's bound is ~$0.0064.
    emulator.responder = () => "x".repeat(2000);
    ws = createWorkspace({
      skills: { ask: SKILL },
      schedules: {
        budget: { perDay: 0.0125 },
        alerts: [{ to: "file", path: "alerts/{key}.md" }],
        jobs: [{ id: "spender", skill: "ask", cron: "* * * * * *", deliver: [{ to: "stdout" }] }],
      },
      env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: emulator.url },
    });
    const daemon = await ws.start();
    const runs = await waitFor(
      () => {
        const all = ws?.runs("spender") ?? [];
        return all.filter((run) => run.reason?.startsWith("budget:")).length >= 2 ? all : null;
      },
      { what: "two slots skipped by the budget", timeoutMs: 40_000 },
    );
    await daemon.stop();

    // Slots that fired while a run was still going (the first loads the SDK) are overlap skips: not about budgets.
    const finished = runs.filter((run) => !run.reason?.startsWith("overlap:"));
    expect(finished.slice(0, 3).map((run) => run.status)).toEqual(["succeeded", "succeeded", "failed"]);
    expect(emulator.requests).toHaveLength(2);
    expect(finished[2]?.error).toMatch(
      /^budget top-level perDay \(all jobs\) \(\$0\.0125\): \$0\.01\d\d spent in UTC day \d{4}-\d\d-\d\d, \$0\.00\d\d left; this Claude call could cost up to \$0\.006\d \(claude-sonnet-5-5: at most \d+ input tokens, maxTokens 600\), so it was not made$/,
    );
    const now = new Date();
    const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
    for (const run of finished.slice(3)) {
      expect(run).toMatchObject({ status: "skipped", reason: `budget: top-level perDay, resets ${tomorrow}` });
      expect(ws.steps(run.id)).toEqual([]);
    }

    const alertDir = join(ws.dataDir, "deliveries", "alerts");
    const budgetAlerts = readdirSync(alertDir)
      .filter((name) => name.startsWith("budget-"))
      .sort();
    expect(budgetAlerts).toEqual([
      expect.stringMatching(/^budget-all-perDay-\d{4}-\d\d-\d\d-100\.md$/),
      expect.stringMatching(/^budget-all-perDay-\d{4}-\d\d-\d\d-80\.md$/),
    ]);
    expect(readFileSync(join(alertDir, budgetAlerts[1] as string), "utf8")).toContain(
      "Sundial: budget top-level perDay (all jobs) at 80%",
    );
    expect(readFileSync(join(alertDir, budgetAlerts[0] as string), "utf8")).toContain(`until it resets ${tomorrow}`);

    // Spend reports read the same ledger: the CLI (read-only) and /metrics of a daemon started again.
    const costs = await ws.runCli(["costs", "--json", "--by", "model"]);
    expect(costs.code).toBe(0);
    const report = JSON.parse(costs.stdout) as {
      by: string;
      totalUsd: number;
      groups: { model: string; costUsd: number; calls: number; usage: { outputTokens: number } }[];
    };
    expect(report.by).toBe("model");
    expect(report.groups).toEqual([
      {
        model: "claude-sonnet-5-5",
        costUsd: report.totalUsd,
        calls: 2,
        usage: expect.objectContaining({ outputTokens: expect.any(Number) }),
      },
    ]);
    const outputTokens = report.groups[0]?.usage.outputTokens as number;
    expect(outputTokens).toBeGreaterThanOrEqual(1000);
    expect(report.totalUsd).toBeGreaterThan(0.01);
    expect(report.totalUsd).toBeLessThanOrEqual(0.0125);
    const text = await ws.runCli(["costs", "--since", "1d"]);
    expect(text.stdout).toMatch(
      new RegExp(
        String.raw`^job\s+cost\s+calls\s+input\s+output\s+cache write\s+cache read\nspender\s+\$0\.01\d\d\s+2\s+\d+\s+${outputTokens}\s+0\s+0\ntotal\s+\$0\.01\d\d\n`,
      ),
    );
    expect((await ws.runCli(["costs", "--by", "week"])).code).toBe(2);

    ws.writeSchedules({ jobs: [] });
    const again = await ws.start();
    const metrics = await (await fetch(`${again.url}/metrics`)).text();
    const cost = metrics
      .split("\n")
      .find((line) => line.startsWith('sundial_cost_usd_total{job="spender",model="claude-sonnet-5-5"} '));
    expect(Number(cost?.split(" ")[1])).toBeCloseTo(report.totalUsd, 10);
    expect(metrics).toContain(
      `sundial_tokens_total{job="spender",model="claude-sonnet-5-5",kind="output"} ${outputTokens}`,
    );
    expect(metrics).toContain("# TYPE sundial_cost_usd_total counter");
    await again.stop();
  }, 60_000);

  it("drops the reservations of a run whose process died, at start-up, so they do not hold the budget", async () => {
    ws = createWorkspace({
      skills: { ask: SKILL },
      schedules: {
        budget: { perDay: 0.0125 },
        jobs: [{ id: "spender", skill: "ask", cron: "* * * * * *", deliver: [{ to: "stdout" }] }],
      },
      env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: emulator.url },
    });
    // A process killed mid-call left its run `running` (lease long expired) and its call's reservation.
    const store = openSqliteStore(ws.dbFile);
    const long = Date.now() - 3_600_000;
    const [claim] = await store.claimRuns(
      [{ job: "spender", skill: "ask", scheduledFor: long, trigger: "manual", overlap: "allow" }],
      { pid: 999_999, instance: "killed" },
      long,
    );
    const held = await store.reserveSpend({
      runId: claim?.runId as number,
      job: "spender",
      amountUsd: 0.012,
      now: Date.now(),
      caps: [],
    });
    store.close();
    expect(held.reserved).toBe(true);

    const daemon = await ws.start();
    // With the $0.012 still reserved, no call (bound ~$0.0064) would fit in $0.0125.
    await waitFor(() => ws?.runs("spender").some((run) => run.trigger === "schedule" && run.status === "succeeded"), {
      what: "a run that could call Claude",
      timeoutMs: 30_000,
    });
    expect(ws.query("SELECT * FROM spend_reservations WHERE run_id = ?", claim?.runId)).toEqual([]);
    expect(emulator.requests.length).toBeGreaterThanOrEqual(1);
    await daemon.stop();
  }, 60_000);
});
