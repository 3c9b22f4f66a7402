/**
 * @module dashboard/pages/jobs — every job with its schedule in words and in its time zone, next
 * fires, last result, failure streak and the Run now / Dry run / Pause / Resume buttons; and one
 * job's page with its recent runs.
 */
import type { Controls, JobView } from "../../../control/types.ts";
import { cronToWords } from "../cron-words.ts";
import { failureStreaks } from "../data.ts";
import { badge, money, relative, time } from "../format.ts";
import { html, type SafeHtml } from "../html.ts";
import { action } from "../layout.ts";
import { runsTable } from "./runs.ts";

const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;

function state(job: JobView): SafeHtml {
  if (!job.enabled)
    return html`${badge("disabled")}
      <div class="muted small">${job.disabledReason ?? ""}</div>`;
  if (job.paused)
    return html`${badge("paused")}${job.pausedReason ? html`<div class="muted small">${job.pausedReason}</div>` : ""}`;
  return html`<span class="badge ok">active</span>`;
}

export function jobActions(job: JobView, back: string): SafeHtml {
  const base = jobPath(job.id);
  return html`<div class="actions">
    ${action(`${base}/run`, "Run now", back, { tone: "primary" })}
    ${action(`${base}/run`, "Dry run", back, { fields: { dryRun: "1" } })}
    ${
      job.paused
        ? action(`${base}/resume`, "Resume", back)
        : action(`${base}/pause`, "Pause", back, {
            extra: html`<input
              name="reason"
              placeholder="reason (optional)"
              maxlength="200"
              aria-label="Pause reason for ${job.id}"
            />`,
          })
    }
  </div>`;
}

function schedule(job: JobView): SafeHtml {
  const words = cronToWords(job.cron);
  return html`${words}
    <div class="muted small">${words === job.cron ? "" : html`<code>${job.cron}</code> · `}${job.timezone}</div>`;
}

function lastResult(job: JobView): SafeHtml {
  const run = job.lastRun;
  if (!run) return html`<span class="muted">never ran</span>`;
  return html`<a href="/runs/${run.id}">${badge(run.status)}</a>
    <span class="muted small">${time(run.finishedAt ?? run.startedAt ?? run.scheduledFor, job.timezone)}</span>`;
}

async function streakOf(controls: Controls, job: string): Promise<number> {
  const page = await controls.listRuns({ job, limit: 20 });
  return failureStreaks(page.runs).get(job) ?? 0;
}

export async function jobsPage(controls: Controls, now: number): Promise<SafeHtml> {
  const jobs = await controls.listJobs();
  const streaks = await Promise.all(jobs.map((j) => streakOf(controls, j.id)));
  if (!jobs.length)
    return html`<h1>Jobs</h1>
      <p class="muted">No job is configured in <code>schedules.json</code>.</p>`;
  return html`<h1>Jobs</h1>
    <table class="jobs">
      <thead>
        <tr>
          <th>Job</th>
          <th>Schedule</th>
          <th>Next fires</th>
          <th>Last result</th>
          <th>Streak</th>
          <th>State</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${jobs.map(
          (job, i) =>
            html`<tr data-job="${job.id}">
              <td>
                <a href="${jobPath(job.id)}"><strong>${job.id}</strong></a>
                <div class="muted small">${job.skill}</div>
              </td>
              <td>${schedule(job)}</td>
              <td>${nextFires(job, now, 2)}</td>
              <td>${lastResult(job)}</td>
              <td>
                ${streaks[i] ? html`<span class="badge bad">${streaks[i]} failed</span>` : html`<span class="muted">—</span>`}
              </td>
              <td>${state(job)}</td>
              <td>${job.enabled ? jobActions(job, "/jobs") : ""}</td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function nextFires(job: JobView, now: number, n: number): SafeHtml {
  if (!job.enabled || !job.nextRuns.length) return html`<span class="muted">—</span>`;
  return html`<ul class="plain">
    ${job.nextRuns.slice(0, n).map((iso) => html`<li>${time(iso, job.timezone)} <span class="muted small">${relative(iso, now)}</span></li>`)}
  </ul>`;
}

export async function jobPage(controls: Controls, job: JobView, now: number): Promise<SafeHtml> {
  const [page, streak] = await Promise.all([controls.listRuns({ job: job.id, limit: 20 }), streakOf(controls, job.id)]);
  const spent = page.runs.reduce((a, r) => a + (r.costUsd ?? 0), 0);
  return html`<p class="crumbs"><a href="/jobs">Jobs</a> /</p>
    <h1>${job.id} ${state(job)}</h1>
    ${job.enabled ? jobActions(job, jobPath(job.id)) : ""}
    <dl class="kv wide">
      <dt>Skill</dt>
      <dd>${job.skill}</dd>
      <dt>Schedule</dt>
      <dd>${schedule(job)}</dd>
      <dt>Next fires</dt>
      <dd>${nextFires(job, now, 5)}</dd>
      <dt>Last result</dt>
      <dd>${lastResult(job)}</dd>
      <dt>Failure streak</dt>
      <dd>${streak ? html`<span class="badge bad">${streak} failed in a row</span>` : "none"}</dd>
      <dt>Cost of the last ${page.runs.length} runs</dt>
      <dd>${money(spent)}</dd>
    </dl>
    <h2>Recent runs</h2>
    ${runsTable(page.runs)}
    <p><a href="/runs?job=${encodeURIComponent(job.id)}">All runs of ${job.id} →</a></p>`;
}
