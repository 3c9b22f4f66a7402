/**
 * @module dashboard/pages/overview — health, what is due next, the last 24 hours, failures and
 * streaks, spend today and this month, the cost chart; and, while no job is enabled, a to-do list
 * that says what each job is missing and how to fix it.
 */
import type { Controls, JobView } from "../../../control/types.ts";
import { costChart, lastDays, type DailyCost } from "../chart.ts";
import { cronToWords } from "../cron-words.ts";
import { dailyCosts, failureStreaks, isFailure, recentRuns, type SpendSource } from "../data.ts";
import { badge, money, relative, time } from "../format.ts";
import { html, raw, type SafeHtml } from "../html.ts";

const DAY = 86_400_000;
const CHART_DAYS = 30;

export async function overviewPage(
  deps: { controls: Controls; health: () => Promise<unknown>; spend?: SpendSource },
  now: number,
): Promise<SafeHtml> {
  const today = new Date(now).toISOString().slice(0, 10);
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const chartStart = Date.parse(`${lastDays(CHART_DAYS, now)[0]}T00:00:00Z`);
  const since = Math.min(monthStart, chartStart);
  const [jobs, recent, health] = await Promise.all([
    deps.controls.listJobs(),
    recentRuns(deps.controls, since),
    healthOf(deps.health),
  ]);
  const costs: DailyCost[] = deps.spend ? await deps.spend(new Date(since)) : dailyCosts(recent.runs);
  const spendToday = costs.filter((c) => c.day === today).reduce((a, c) => a + c.costUsd, 0);
  const spendMonth = costs.filter((c) => c.day >= today.slice(0, 7)).reduce((a, c) => a + c.costUsd, 0);
  const day = recent.runs.filter((r) => Date.parse(r.scheduledFor) >= now - DAY);
  const count = (statuses: string[]) => day.filter((r) => statuses.includes(r.status)).length;
  const streaks = [...failureStreaks(recent.runs)].filter(([, n]) => n > 0);
  const failures = day.filter(isFailure).slice(0, 8);
  const partial = recent.complete
    ? ""
    : html`<p class="muted">Figures cover the newest ${recent.runs.length} runs only.</p>`;

  return html`<h1>Overview</h1>
    ${jobs.some((j) => j.enabled) ? "" : setupTodo(jobs)}
    <section class="cards">
      <div class="card">
        <h2>Health</h2>
        ${health}
      </div>
      <div class="card">
        <h2>Last 24 hours</h2>
        <p class="big">${day.length} <small>runs</small></p>
        <p>
          ${badge("succeeded")} ${count(["succeeded"])} ${badge("failed")} ${count(["failed", "timed_out"])}
          ${badge("skipped")}
          ${count(["skipped", "missed"])}${count(["queued", "running", "retrying"]) ? html` ${badge("running")} ${count(["queued", "running", "retrying"])}` : ""}
        </p>
      </div>
      <div class="card">
        <h2>Spend</h2>
        <p class="big">${money(spendToday)} <small>today (UTC)</small></p>
        <p>${money(spendMonth)} this month</p>
      </div>
    </section>
    <section>
      <h2>Due next</h2>
      ${dueNext(jobs, now)}
    </section>
    <section>
      <h2>Failures</h2>
      ${
        streaks.length
          ? html`<ul class="streaks">
              ${streaks
                .sort((a, b) => b[1] - a[1])
                .slice(0, 10)
                .map(
                  ([job, n]) =>
                    html`<li>
                      <a href="/jobs/${encodeURIComponent(job)}">${job}</a>: ${badge("failed")} ${n} in a row
                    </li>`,
                )}${streaks.length > 10 ? html`<li class="muted">and ${streaks.length - 10} more jobs</li>` : ""}
            </ul>`
          : html`<p class="muted">No job is failing.</p>`
      }
      ${
        failures.length
          ? html`<table>
              <thead>
                <tr>
                  <th>Run</th>
                  <th>Job</th>
                  <th>When</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                ${failures.map(
                  (r) =>
                    html`<tr>
                      <td><a href="/runs/${r.id}">#${r.id}</a></td>
                      <td>${r.job}</td>
                      <td>${time(r.startedAt ?? r.scheduledFor)}</td>
                      <td class="clip">${r.error ?? r.reason ?? ""}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">No failed run in the last 24 hours.</p>`
      }
    </section>
    <section>
      <h2>Cost per day and job <small>last ${CHART_DAYS} days, UTC</small></h2>
      ${costChart(costs, lastDays(CHART_DAYS, now))}${partial}
    </section>`;
}

async function healthOf(probe: () => Promise<unknown>): Promise<SafeHtml> {
  let value: unknown;
  try {
    value = await probe();
  } catch (error) {
    return html`<p>${badge("failed")} ${error instanceof Error ? error.message : String(error)}</p>`;
  }
  if (!value || typeof value !== "object") return html`<p>${String(value)}</p>`;
  const { status, checks, ...rest } = value as Record<string, unknown>;
  const tone = (state: unknown) =>
    state === "ok"
      ? "succeeded"
      : state === "degraded"
        ? "retrying"
        : state === "not configured"
          ? "skipped"
          : "failed";
  // The daemon's body: one line per check (its status and what it says); anything else as it is.
  const rows =
    checks && typeof checks === "object"
      ? Object.entries(checks as Record<string, { status?: unknown; message?: unknown }>).map(
          ([name, check]) =>
            html`<dt>${name}</dt>
              <dd>
                ${badge(tone(check.status), String(check.status ?? "?"))}${check.message ? html` <span class="muted">${String(check.message)}</span>` : ""}
              </dd>`,
        )
      : Object.entries(rest).map(
          ([k, v]) =>
            html`<dt>${k}</dt>
              <dd>${typeof v === "object" ? JSON.stringify(v) : String(v)}</dd>`,
        );
  return html`<p class="big">${badge(tone(status), String(status ?? "unknown"))}</p>
    <dl class="kv">${rows}</dl>`;
}

function dueNext(jobs: JobView[], now: number): SafeHtml {
  const due = jobs
    .filter((j) => j.enabled && !j.paused && j.nextRuns[0])
    .sort((a, b) => Date.parse(a.nextRuns[0] as string) - Date.parse(b.nextRuns[0] as string))
    .slice(0, 8);
  if (!due.length) return html`<p class="muted">Nothing is scheduled: no job is enabled and unpaused.</p>`;
  return html`<table>
    <thead>
      <tr>
        <th>Job</th>
        <th>Next</th>
        <th>Schedule</th>
      </tr>
    </thead>
    <tbody>
      ${due.map(
        (j) =>
          html`<tr>
            <td><a href="/jobs/${encodeURIComponent(j.id)}">${j.id}</a></td>
            <td>
              ${time(j.nextRuns[0], j.timezone)}
              <span class="muted">${j.timezone} · ${relative(j.nextRuns[0], now)}</span>
            </td>
            <td>${cronToWords(j.cron)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** What a first start with no keys should teach: each job, what it lacks, and what to do. */
export function setupTodo(jobs: JobView[]): SafeHtml {
  if (!jobs.length) {
    return html`<section class="todo">
      <h2>Nothing to run yet</h2>
      <p>
        No job is configured. Add one to <code>schedules.json</code> (start with <code>npx sundial new hello</code>),
        and the running daemon picks it up within seconds.
      </p>
    </section>`;
  }
  return html`<section class="todo">
    <h2>Nothing will run yet: every job is disabled</h2>
    <p>
      Fix what each job is missing below; the running daemon picks up changes to <code>.env</code> and
      <code>schedules.json</code> within seconds. <code>npx sundial check</code> lists the same problems.
    </p>
    <ol>
      ${jobs.map(
        (j) =>
          html`<li>
            <strong>${j.id}</strong> <span class="muted">(${j.skill})</span>
            <ul>
              ${(j.disabledReason ?? "disabled").split("; ").map((reason) => html`<li>${reason}<br /><span class="fix">${raw("&rarr;")} ${fixFor(reason, j)}</span></li>`)}
            </ul>
          </li>`,
      )}
    </ol>
  </section>`;
}

function fixFor(reason: string, job: JobView): SafeHtml {
  const variable = /environment variable (\w+)/.exec(reason)?.[1];
  if (variable)
    return html`add <code>${variable}=…</code> to <code>.env</code> (see <code>.env.example</code> for where to get it)`;
  if (/disabled in schedules\.json/.test(reason))
    return html`set <code>"enabled": true</code> on job <code>${job.id}</code> in <code>schedules.json</code>`;
  if (/unknown skill/.test(reason))
    return html`create <code>skills/${job.skill}.ts</code> (<code>npx sundial new ${job.skill}</code>) or fix the
      skill's name`;
  return html`fix this in <code>schedules.json</code>; <code>npx sundial check</code> says more`;
}
