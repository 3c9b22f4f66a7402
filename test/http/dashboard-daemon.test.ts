/**
 * The dashboard of a real daemon process in Chromium: sign in with the token, see the jobs, press
 * Run now and watch the run appear and finish (live, through the daemon's own events), open the
 * run and see its steps, pause and resume the job (kept in the ledger), and a hostile output shown
 * as text. The other browser tests use a seeded ledger; this one proves the daemon's wiring.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, waitFor, type Daemon, type Workspace } from "../helpers/workspace.ts";

const TOKEN = "dashboard-daemon-token-not-a-secret";
const SHOTS = join(import.meta.dirname, "..", "..", ".tmp", "screenshots");

// Two parallel steps and an error that carries markup: the run page must draw the one and escape the other.
const hostile = `
import { setTimeout as sleep } from "node:timers/promises";
import { defineSkill, z } from "sundial";
export default defineSkill({
  name: "hostile",
  description: "two parallel steps, then fails with markup in its error",
  params: z.object({}),
  async run(ctx) {
    await ctx.parallel(["a", "b"], (name) => ctx.step("fetch-" + name, () => sleep(300).then(() => name)));
    throw new Error('<img src=x onerror="alert(1)"><script>alert(2)</script>');
  },
});
`;

let ws: Workspace;
let daemon: Daemon;
let browser: Browser;
const dialogs: string[] = [];

async function signIn(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${daemon.url}/jobs`);
  expect(new URL(page.url()).pathname).toBe("/login");
  await page.fill("#token", TOKEN);
  await page.click("button:has-text('Sign in')");
  await page.waitForURL(`${daemon.url}/jobs`);
  return page;
}

function ledgerRuns(): { id: number; status: string; trigger: string }[] {
  return ws.query<{ id: number; status: string; trigger: string }>(
    "SELECT id, status, trigger FROM runs WHERE job = 'hostile' ORDER BY id",
  );
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ws = createWorkspace({
    skills: { hostile },
    schedules: { jobs: [{ id: "hostile", skill: "hostile", cron: "0 0 1 1 *", catchUp: "none", retries: 0 }] },
    env: { SUNDIAL_API_TOKEN: TOKEN },
  });
  daemon = await ws.start();
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await ws?.cleanup();
});

describe("the daemon's dashboard in Chromium", { timeout: 60_000 }, () => {
  it("runs a job from the jobs page and shows the run end, its parallel steps and its error as text", async () => {
    const page = await signIn();
    await expect.poll(() => page.textContent("main")).toContain("hostile");
    await page.goto(`${daemon.url}/jobs/hostile`);
    await page.click("button:has-text('Run now')");
    const run = await waitFor(() => ledgerRuns().find((r) => r.trigger === "manual" && r.status === "failed") ?? null, {
      timeoutMs: 20_000,
      what: "the manual run to fail",
    });

    await page.goto(`${daemon.url}/runs`);
    await expect.poll(() => page.textContent("main")).toContain(`#${run.id}`);
    await page.goto(`${daemon.url}/runs/${run.id}`);
    const main = (await page.textContent("main")) ?? "";
    expect(main).toContain("failed");
    // The error is shown literally, and nothing in it ran or became an element.
    expect(main).toContain('<img src=x onerror="alert(1)">');
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.locator("main script").count()).toBe(0);
    expect(dialogs).toEqual([]);
    // Both parallel steps are drawn on the timeline.
    expect(main).toContain("fetch-a");
    expect(main).toContain("fetch-b");
    await page.screenshot({ path: join(SHOTS, "daemon-run.png"), fullPage: true });
    await page.close();
  });

  it("pauses and resumes the job, and the pause is in the ledger", async () => {
    const page = await signIn();
    await page.goto(`${daemon.url}/jobs/hostile`);
    await page.fill("input[name=reason]", "holiday");
    await page.click("button:has-text('Pause')");
    await expect.poll(() => page.textContent("main")).toContain("holiday");
    expect(ws.query<{ reason: string }>("SELECT reason FROM job_pauses WHERE job = 'hostile'")).toEqual([
      { reason: "holiday" },
    ]);
    await page.click("button:has-text('Resume')");
    await expect.poll(() => ws.query("SELECT job FROM job_pauses").length).toBe(0);
    await page.close();
  });

  it("shows the daemon's health checks on the overview, one line each", async () => {
    const page = await signIn();
    await page.goto(`${daemon.url}/`);
    const health = (await page.textContent(".card:has(h2:text('Health'))")) ?? "";
    for (const check of ["scheduler", "ledger", "config", "jobs", "overdue", "discord", "nodes"])
      expect(health).toContain(check);
    expect(health).not.toContain("{");
    await page.screenshot({ path: join(SHOTS, "daemon-overview.png"), fullPage: true });
    await page.close();
  });

  it("refuses a state-changing request from another origin", async () => {
    const response = await fetch(`${daemon.url}/jobs/hostile/pause`, {
      method: "POST",
      headers: { origin: "http://evil.example.test", "content-type": "application/x-www-form-urlencoded" },
      body: "reason=x",
      redirect: "manual",
    });
    expect(response.status).toBe(403);
    expect(ws.query("SELECT job FROM job_pauses")).toEqual([]);
  });
});
