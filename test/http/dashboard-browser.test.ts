/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core), served by a real
 * hono Node server over a real, seeded SQLite ledger. Screenshots go to .tmp/screenshots/.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOSTILE, startDashboard, TOKEN, type DashboardServer } from "../helpers/dashboard.ts";

const SHOTS = join(import.meta.dirname, "..", "..", ".tmp", "screenshots");
let dashboard: DashboardServer;
let browser: Browser;
const dialogs: string[] = [];
/** Console errors of every signed-in page: a CSP violation by our own markup would show here. */
const consoleErrors: string[] = [];

async function signedInPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.goto(`${dashboard.url}/`);
  await page.fill("#token", TOKEN);
  await page.click("button:has-text('Sign in')");
  await page.waitForURL(`${dashboard.url}/`);
  return page;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dashboard = await startDashboard();
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

describe("dashboard in Chromium", () => {
  it("refuses a wrong token, then signs in with the right one and shows the overview", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${dashboard.url}/jobs`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#token", "not-the-token");
    await page.click("button:has-text('Sign in')");
    await expect.poll(() => page.textContent("body")).toContain("That is not the operator token");
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.screenshot({ path: join(SHOTS, "login-refused.png") });
    await page.fill("#token", TOKEN);
    await page.click("button:has-text('Sign in')");
    await page.waitForURL(`${dashboard.url}/jobs`);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "sundial_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");
    expect(session?.value).not.toContain(TOKEN);
    await page.goto(`${dashboard.url}/`);
    const text = await page.textContent("main");
    expect(text).toContain("Due next");
    expect(text).toContain("daily-digest");
    expect(text).toMatch(/blog: failed 2 in a row/);
    expect(await page.locator(".chart svg rect").count()).toBeGreaterThan(20);
    await page.screenshot({ path: join(SHOTS, "overview.png"), fullPage: true });
    await page.close();
  });

  it("lists the jobs with their schedule in words and time zone; Pause and Resume change the state", async () => {
    const page = await signedInPage();
    await page.goto(`${dashboard.url}/jobs`);
    const row = page.locator('tr[data-job="daily-digest"]');
    expect(await row.textContent()).toContain("at 08:00 on Monday to Friday");
    expect(await row.textContent()).toContain("Europe/Paris");
    expect(await page.locator('tr[data-job="weekly-report"]').textContent()).toContain("GITHUB_TOKEN");
    await row.locator('input[name="reason"]').fill("vendor outage");
    await row.locator("button:has-text('Pause')").click();
    await page.waitForURL(`${dashboard.url}/jobs`);
    expect(await page.locator(".flash.ok").textContent()).toContain("daily-digest is paused: vendor outage");
    expect(await page.locator('tr[data-job="daily-digest"] .badge.warn').textContent()).toBe("paused");
    expect(dashboard.controls.calls).toContainEqual({ method: "pause", args: ["daily-digest", "vendor outage"] });
    await page.screenshot({ path: join(SHOTS, "jobs-paused.png"), fullPage: true });
    await page.locator('tr[data-job="daily-digest"] button:has-text("Resume")').click();
    await expect.poll(() => page.locator(".flash.ok").textContent()).toContain("running on schedule again");
    expect(await page.locator('tr[data-job="daily-digest"]').textContent()).toContain("active");
    expect(dashboard.controls.calls).toContainEqual({ method: "resume", args: ["daily-digest"] });
    await page.close();
  });

  it("Run now reaches the controls, and the run appears and finishes", async () => {
    const page = await signedInPage();
    await page.goto(`${dashboard.url}/jobs`);
    await page.locator('tr[data-job="blog"] button:has-text("Run now")').click();
    const flash = (await page.locator(".flash.ok").textContent()) ?? "";
    const id = Number(/Run #(\d+)/.exec(flash)?.[1]);
    expect(id).toBeGreaterThan(0);
    expect(dashboard.controls.calls).toContainEqual({ method: "trigger", args: ["blog", { dryRun: false }] });
    await page.goto(`${dashboard.url}/runs?job=blog`);
    expect(await page.locator(`tr[data-run="${id}"]`).textContent()).toContain("manual");
    expect(await page.locator(`tr[data-run="${id}"] .badge`).first().textContent()).toBe("running");
    // The live script re-renders the page when the run finishes: no reload by the test.
    await page.locator("#live.on").waitFor();
    await dashboard.controls.finishPending();
    await expect
      .poll(() => page.locator(`tr[data-run="${id}"] .badge`).first().textContent(), { timeout: 10_000 })
      .toBe("succeeded");
    await page.screenshot({ path: join(SHOTS, "runs.png"), fullPage: true });
    await page.close();
  });

  it("draws a run's parallel steps as overlapping bars on one time axis", async () => {
    const page = await signedInPage();
    await page.goto(`${dashboard.url}/runs/${dashboard.seeded.parallelRun}`);
    const box = async (step: string) => (await page.locator(`rect[data-step="${step}"]`).boundingBox())!;
    const fetch = await box("fetch-transcripts");
    const a = await box("write:intro-to-sqlite");
    const b = await box("write:cron-in-practice");
    const c = await box("write:timezones");
    for (const bar of [a, b, c]) {
      expect(bar.x).toBeGreaterThanOrEqual(fetch.x + fetch.width - 1); // after fetch, on the same axis
      expect(bar.width).toBeGreaterThan(50);
    }
    // the three writes overlap in time: each starts before the others end
    expect(b.x).toBeLessThan(a.x + a.width);
    expect(c.x).toBeLessThan(b.x + b.width);
    expect(await page.textContent("main")).toContain("steps ran in parallel");
    const deliveries = page.locator("h2:has-text('Deliveries') + table");
    expect(await deliveries.locator("a[href='https://discord.com/channels/1/2/3']").count()).toBe(1);
    expect(await deliveries.textContent()).toContain("GitHub: 502 bad gateway");
    await page.click("button:has-text('Redeliver failed targets')");
    expect(await page.locator(".flash").textContent()).toContain("Delivering the failed targets");
    expect(dashboard.controls.calls).toContainEqual({ method: "redeliver", args: [dashboard.seeded.parallelRun] });
    await page.screenshot({ path: join(SHOTS, "run-timeline.png"), fullPage: true });
    await page.goto(`${dashboard.url}/runs/${dashboard.seeded.runningRun}`);
    await page.click("button:has-text('Cancel')");
    expect(dashboard.controls.calls).toContainEqual({ method: "cancel", args: [dashboard.seeded.runningRun] });
    await page.close();
  });

  it("renders hostile output as text: no script runs, no dialog, no javascript: link", async () => {
    const page = await signedInPage();
    await page.goto(`${dashboard.url}/runs/${dashboard.seeded.hostileRun}`);
    await page.waitForTimeout(500);
    expect(dialogs).toEqual([]);
    expect(await page.locator(".error-box").textContent()).toBe(HOSTILE);
    expect(await page.locator(".step-error").textContent()).toBe(HOSTILE);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.locator("main script").count()).toBe(0);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await page.textContent("main")).toContain("javascript:alert(1)");
    await page.goto(`${dashboard.url}/runs?job=daily-digest&status=failed`);
    await page.goto(`${dashboard.url}/`);
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: join(SHOTS, "run-hostile.png"), fullPage: true });
    await page.close();
  });

  it("works with JavaScript off: sign in, read the jobs, pause and resume with plain forms", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${dashboard.url}/jobs`);
    await page.fill("#token", TOKEN);
    await page.click("button:has-text('Sign in')");
    await page.waitForURL(`${dashboard.url}/jobs`);
    expect(await page.locator('tr[data-job="blog"]').textContent()).toContain("at 06:30 every day");
    await page.locator('tr[data-job="blog"] button:has-text("Pause")').click();
    expect(await page.locator('tr[data-job="blog"] .badge.warn').textContent()).toBe("paused");
    await page.locator('tr[data-job="blog"] button:has-text("Resume")').click();
    expect(await page.locator('tr[data-job="blog"]').textContent()).toContain("active");
    expect(await page.locator("#live.on").count()).toBe(0);
    await context.close();
  });

  it("refuses a cross-origin POST with 403 and sends a strict CSP", async () => {
    const page = await signedInPage();
    const cookie = (await page.context().cookies()).find((c) => c.name === "sundial_session")!;
    const post = (origin: string | null, withCookie = true) =>
      fetch(`${dashboard.url}/jobs/blog/pause`, {
        method: "POST",
        redirect: "manual",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(origin ? { origin } : {}),
          ...(withCookie ? { cookie: `${cookie.name}=${cookie.value}` } : {}),
        },
        body: "back=/jobs&reason=forged",
      });
    const before = dashboard.controls.calls.length;
    expect((await post("https://evil.example")).status).toBe(403);
    expect((await post(null)).status).toBe(403);
    expect((await post(dashboard.url, false)).status).toBe(401);
    expect(dashboard.controls.calls.length).toBe(before);
    expect((await post(dashboard.url)).status).toBe(303);
    const response = await page.goto(`${dashboard.url}/jobs`);
    const headers = response!.headers();
    expect(headers["content-security-policy"]).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("same-origin");
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
    await page.close();
  });
});
