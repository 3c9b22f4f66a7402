/**
 * The dashboard's routes over HTTP (a real hono Node server, a real seeded ledger), without a
 * browser: what it claims when mounted at `/`, sign-in rules, control errors as a flash, bad input.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardRoutes } from "../../src/http/dashboard/index.ts";
import { startDashboard, TOKEN, type DashboardServer } from "../helpers/dashboard.ts";

let d: DashboardServer;
let cookie: string;

beforeAll(async () => {
  d = await startDashboard();
  const login = await fetch(`${d.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: d.url, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: TOKEN, next: "/runs" }),
  });
  expect(login.status).toBe(303);
  expect(login.headers.get("location")).toBe("/runs");
  const set = login.headers.get("set-cookie") ?? "";
  expect(set).toMatch(/HttpOnly/);
  expect(set).toMatch(/SameSite=Strict/);
  expect(set).toMatch(/Path=\//);
  expect(set).not.toContain(TOKEN);
  cookie = set.split(";")[0] as string;
});
afterAll(() => d?.close());

const form = (path: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${d.url}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: d.url, cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(body),
  });

describe("dashboard routes", () => {
  it("claims only its own paths when mounted at / (the API's routes stay the API's)", async () => {
    const root = new Hono();
    root.route("/", dashboardRoutes({ controls: d.controls, token: TOKEN, health: async () => ({ status: "ok" }) }));
    root.get("/api/v1/jobs", (c) => c.json({ jobs: [] }));
    const api = await root.request("/api/v1/jobs");
    expect(api.status).toBe(200);
    expect(await api.json()).toEqual({ jobs: [] });
    expect(api.headers.get("content-security-policy")).toBeNull();
    expect((await root.request("/healthz")).status).toBe(404);
  });

  it("sends a signed-out browser to the sign-in page, and keeps where it was going", async () => {
    const response = await fetch(`${d.url}/runs?status=failed`, { redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`/login?next=${encodeURIComponent("/runs?status=failed")}`);
    const events = await fetch(`${d.url}/events`);
    expect(events.status).toBe(401);
  });

  it("refuses a wrong token with 401 and a cross-site sign-in with 403", async () => {
    const wrong = await fetch(`${d.url}/login`, {
      method: "POST",
      headers: { origin: d.url, "content-type": "application/x-www-form-urlencoded" },
      body: "token=nope",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const forged = await fetch(`${d.url}/login`, {
      method: "POST",
      headers: { origin: "https://evil.test", "content-type": "application/x-www-form-urlencoded" },
      body: `token=${TOKEN}`,
    });
    expect(forged.status).toBe(403);
  });

  it("a session made for another token is not a session", async () => {
    const other = dashboardRoutes({ controls: d.controls, token: "another-token", health: async () => ({}) });
    const response = await other.request("/jobs", { headers: { cookie } });
    expect(response.status).toBe(303);
  });

  it("shows a control's error as a flash on the page it came from (POST → redirect → GET)", async () => {
    const post = await form(`/runs/${d.seeded.parallelRun}/cancel`, { back: `/runs/${d.seeded.parallelRun}` });
    expect(post.status).toBe(303);
    expect(post.headers.get("location")).toBe(`/runs/${d.seeded.parallelRun}`);
    const flash = (post.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const page = await fetch(`${d.url}/runs/${d.seeded.parallelRun}`, { headers: { cookie: `${cookie}; ${flash}` } });
    const text = await page.text();
    expect(text).toContain(`class="flash error"`);
    expect(text).toContain(`already ended succeeded; there is nothing to cancel`);
  });

  it("goes back only to a path of this site", async () => {
    const post = await form("/jobs/blog/resume", { back: "//evil.test/x" });
    expect(post.headers.get("location")).toBe("/");
  });

  it("answers bad input with a clear 400 or 404", async () => {
    const bad = await fetch(`${d.url}/runs?before=abc`, { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("before must be a run id");
    const status = await fetch(`${d.url}/runs?status=exploded`, { headers: { cookie } });
    expect(status.status).toBe(400);
    expect((await fetch(`${d.url}/runs/999999`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${d.url}/jobs/nope`, { headers: { cookie } })).status).toBe(404);
  });

  it("pages runs with before and never repeats a run", async () => {
    const ids = async (query: string) =>
      [
        ...(await (await fetch(`${d.url}/runs${query}`, { headers: { cookie } })).text()).matchAll(/data-run="(\d+)"/g),
      ].map((m) => Number(m[1]));
    const first = await ids("");
    expect(first.length).toBe(43);
    const html = await (await fetch(`${d.url}/runs?job=blog`, { headers: { cookie } })).text();
    expect(html).not.toContain("daily-digest</td>");
    const older = await ids(`?before=${first[9]}`);
    expect(older[0]).toBe((first[9] as number) - 1);
    expect(older.every((id) => id < (first[9] as number))).toBe(true);
  });
});
