/**
 * @module dashboard — the operator's dashboard as a hono app, mounted at `/` by the daemon's
 * server: server-rendered pages that read without JavaScript, sign-in with the operator token,
 * HTML form controls (POST → redirect → GET, errors as a flash) that check their origin, and a
 * session-authenticated event stream for the small script that keeps pages live. It claims only
 * its own paths (no catch-all middleware), so `/api/v1`, `/healthz` and `/metrics` stay the API's.
 */
import { readFileSync } from "node:fs";
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { ControlError, type Controls } from "../../control/types.ts";
import type { SpendSource } from "./data.ts";
import { html } from "./html.ts";
import { page, type Flash } from "./layout.ts";
import { jobPage, jobsPage } from "./pages/jobs.ts";
import { overviewPage } from "./pages/overview.ts";
import { runPage } from "./pages/run.ts";
import { runsPage, STATUSES } from "./pages/runs.ts";
import { loginPage } from "./pages/login.ts";
import {
  clearCookie,
  FLASH_COOKIE,
  readCookie,
  safeBack,
  safeEqual,
  sameOrigin,
  SESSION_COOKIE,
  sessionCookie,
  sessionValue,
} from "./session.ts";

export interface DashboardDeps {
  controls: Controls;
  /** The operator token (SUNDIAL_API_TOKEN or data/api-token). Never rendered, never logged. */
  token: string;
  /** What `/healthz` reports (an object with `status`), shown on the overview. */
  health: () => Promise<unknown>;
  /** Cost per UTC day per job since a date; without it the overview sums the runs' costs. */
  spend?: SpendSource;
  now?: () => number;
}

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
const ASSETS: Record<string, { body: string; type: string }> = {
  "app.css": { body: asset("app.css"), type: "text/css; charset=utf-8" },
  "app.js": { body: asset("app.js"), type: "text/javascript; charset=utf-8" },
};

function secure(c: Context): void {
  c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "same-origin");
  c.header("X-Frame-Options", "DENY");
}

export function dashboardRoutes(deps: DashboardDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;
  const session = sessionValue(deps.token);
  const signedIn = (c: Context) => {
    const value = readCookie(c.req.header("cookie"), SESSION_COOKIE);
    return value !== null && safeEqual(value, session);
  };
  // The runs page's job filter only needs ids; listing every job (next fires, last run) on each
  // page would cost more than the page's own query, and ids seconds old are fine there.
  let jobIdCache: { at: number; ids: Promise<string[]> } | null = null;
  const jobIds = () => {
    if (!jobIdCache || now() - jobIdCache.at > 10_000) {
      const ids = deps.controls.listJobs().then((jobs) => jobs.map((j) => j.id));
      ids.catch(() => (jobIdCache = null));
      jobIdCache = { at: now(), ids };
    }
    return jobIdCache.ids;
  };
  const isHttps = (c: Context) => new URL(c.req.url).protocol === "https:";
  const fromHere = (c: Context) =>
    sameOrigin({ origin: c.req.header("origin"), referer: c.req.header("referer"), host: c.req.header("host") });

  const takeFlash = (c: Context): Flash | null => {
    const value = readCookie(c.req.header("cookie"), FLASH_COOKIE);
    if (!value) return null;
    c.header("Set-Cookie", clearCookie(FLASH_COOKIE), { append: true });
    try {
      const flash = JSON.parse(decodeURIComponent(value)) as Flash;
      return (flash.kind === "ok" || flash.kind === "error") && typeof flash.text === "string"
        ? { kind: flash.kind, text: flash.text.slice(0, 500) }
        : null;
    } catch {
      return null;
    }
  };
  const redirectWith = (c: Context, to: string, flash: Flash) => {
    c.header(
      "Set-Cookie",
      `${FLASH_COOKIE}=${encodeURIComponent(JSON.stringify(flash))}; HttpOnly; SameSite=Strict; Path=/; Max-Age=60`,
      { append: true },
    );
    return c.redirect(to, 303);
  };

  /** A signed-in page: security headers, no caching, the flash, and a redirect to sign in. */
  const view = (
    path: string,
    title: (c: Context) => string,
    render: (c: Context) => Promise<ReturnType<typeof html> | Response>,
  ) =>
    app.get(path, async (c) => {
      secure(c);
      c.header("Cache-Control", "no-store");
      if (!signedIn(c))
        return c.redirect(`/login?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 303);
      const body = await render(c);
      if (body instanceof Response) return body;
      return c.html(page({ title: title(c), path: c.req.path, flash: takeFlash(c), body }));
    });

  const notFound = (c: Context, what: string) => {
    secure(c);
    return c.html(
      page({
        title: "Not found",
        path: c.req.path,
        body: html`<h1>Not found</h1>
          <p>${what}</p>
          <p><a href="/">Back to the overview</a></p>`,
      }),
      404,
    );
  };

  /** A state-changing form: same origin (else 403), signed in (else 401), then PRG with a flash. */
  const control = (path: string, perform: (c: Context, form: Record<string, string>) => Promise<string>) =>
    app.post(path, async (c) => {
      secure(c);
      if (!fromHere(c))
        return c.text(
          "Refused: this form must be sent from the dashboard's own pages (Origin/Referer does not match the host).",
          403,
        );
      if (!signedIn(c)) return c.text("Sign in first: the session is missing or has expired.", 401);
      const body = await c.req.parseBody();
      const form = Object.fromEntries(
        Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"),
      );
      const back = safeBack(form.back);
      try {
        return redirectWith(c, back, { kind: "ok", text: await perform(c, form) });
      } catch (error) {
        const text =
          error instanceof ControlError
            ? error.message
            : `Failed: ${error instanceof Error ? error.message : String(error)}`;
        return redirectWith(c, back, { kind: "error", text });
      }
    });

  app.get("/assets/:name", (c) => {
    const file = ASSETS[c.req.param("name")];
    if (!file) return c.notFound();
    secure(c);
    c.header("Cache-Control", "no-cache");
    return c.body(file.body, 200, { "Content-Type": file.type });
  });

  app.get("/login", (c) => {
    secure(c);
    c.header("Cache-Control", "no-store");
    if (signedIn(c)) return c.redirect(safeBack(c.req.query("next")), 303);
    return c.html(
      page({ title: "Sign in", path: "/login", signedIn: false, body: loginPage(safeBack(c.req.query("next")), null) }),
    );
  });
  app.post("/login", async (c) => {
    secure(c);
    if (!fromHere(c)) return c.text("Refused: sign in from the dashboard's own sign-in page.", 403);
    const body = await c.req.parseBody();
    const next = safeBack(body.next);
    if (typeof body.token !== "string" || !safeEqual(body.token.trim(), deps.token)) {
      return c.html(
        page({
          title: "Sign in",
          path: "/login",
          signedIn: false,
          body: loginPage(
            next,
            "That is not the operator token. It is SUNDIAL_API_TOKEN, or the contents of data/api-token.",
          ),
        }),
        401,
      );
    }
    c.header("Set-Cookie", sessionCookie(session, isHttps(c)));
    return c.redirect(next, 303);
  });
  const logout = (c: Context) => {
    secure(c);
    c.header("Set-Cookie", clearCookie(SESSION_COOKIE));
    return c.redirect("/login", 303);
  };
  // Signing out needs no origin check: the worst a forged one can do is sign the operator out.
  app.get("/logout", logout);
  app.post("/logout", logout);

  view(
    "/",
    () => "Overview",
    () => overviewPage(deps, now()),
  );
  view(
    "/jobs",
    () => "Jobs",
    () => jobsPage(deps.controls, now()),
  );
  view(
    "/jobs/:id",
    (c) => c.req.param("id") ?? "Job",
    async (c) => {
      const job = await deps.controls.getJob(c.req.param("id") as string);
      return job
        ? jobPage(deps.controls, job, now())
        : notFound(c, `There is no job "${c.req.param("id")}" in schedules.json.`);
    },
  );
  view(
    "/runs",
    () => "Runs",
    async (c) => {
      const { job, status, before } = c.req.query();
      if (status && !STATUSES.includes(status))
        return c.text(`Unknown status "${status}"; use one of ${STATUSES.join(", ")}.`, 400);
      if (before !== undefined && before !== "" && !/^\d{1,15}$/.test(before))
        return c.text("before must be a run id (a positive whole number).", 400);
      return runsPage(
        deps.controls,
        { ...(job ? { job } : {}), ...(status ? { status } : {}), ...(before ? { before: Number(before) } : {}) },
        jobIds,
      );
    },
  );
  view(
    "/runs/:id",
    (c) => `Run #${c.req.param("id")}`,
    async (c) => {
      const id = c.req.param("id") as string;
      const run = /^\d{1,15}$/.test(id) ? await deps.controls.getRun(Number(id)) : null;
      return run ? runPage(run, now()) : notFound(c, `There is no run #${id} in the ledger.`);
    },
  );

  // Live updates for the page script: the session cookie authenticates (EventSource cannot send
  // a bearer token), and only "something changed" is needed, so each event names its kind and id.
  app.get("/events", (c) => {
    if (!signedIn(c)) return c.text("Sign in first.", 401);
    return streamSSE(c, async (stream) => {
      const unsubscribe = deps.controls.subscribe((event) => {
        const data =
          event.type === "run"
            ? { run: event.run.id, job: event.run.job, status: event.run.status }
            : { job: event.job.id, paused: event.job.paused };
        void stream.writeSSE({ event: event.type, data: JSON.stringify(data) });
      });
      const ping = setInterval(() => void stream.write(": ping\n\n"), 25_000);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(ping);
      unsubscribe();
    });
  });

  control("/jobs/:id/run", async (c, form) => {
    const dryRun = form.dryRun === "1";
    const run = await deps.controls.trigger(c.req.param("id") as string, { dryRun });
    return `${dryRun ? "Dry run" : "Run"} #${run.id} of ${run.job} started (${run.status}).`;
  });
  control("/jobs/:id/pause", async (c, form) => {
    const reason = form.reason?.trim().slice(0, 200) || undefined;
    const job = await deps.controls.pause(c.req.param("id") as string, reason);
    return `${job.id} is paused${reason ? `: ${reason}` : ""}. Its slots are recorded as skipped until you resume it.`;
  });
  control("/jobs/:id/resume", async (c) => {
    const job = await deps.controls.resume(c.req.param("id") as string);
    return `${job.id} is running on schedule again.`;
  });
  control("/runs/:id/cancel", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id)) throw new ControlError("invalid", "A run id is a whole number.");
    await deps.controls.cancel(id);
    return `Run #${id} is being cancelled.`;
  });
  control("/runs/:id/redeliver", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id)) throw new ControlError("invalid", "A run id is a whole number.");
    await deps.controls.redeliver(id);
    return `Delivering the failed targets of run #${id} again.`;
  });
  return app;
}
