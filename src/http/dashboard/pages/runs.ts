/**
 * @module dashboard/pages/runs — the runs list: filters by job and status, and cursor paging with
 * `before` (one indexed range per page, so the thousandth page costs what the first does).
 */
import type { Controls } from "../../../control/types.ts";
import type { RunRecord } from "../../../types.ts";
import { badge, duration, money, time } from "../format.ts";
import { html, type SafeHtml } from "../html.ts";

export const STATUSES = [
  "queued",
  "running",
  "retrying",
  "succeeded",
  "failed",
  "timed_out",
  "cancelled",
  "skipped",
  "missed",
  "interrupted",
];
export const PAGE_SIZE = 50;

export function runsTable(runs: RunRecord[]): SafeHtml {
  if (!runs.length) return html`<p class="muted">No runs.</p>`;
  return html`<table class="runs">
    <thead>
      <tr>
        <th>Run</th>
        <th>Job</th>
        <th>Status</th>
        <th>Trigger</th>
        <th>Scheduled (UTC)</th>
        <th>Took</th>
        <th>Cost</th>
        <th>Note</th>
      </tr>
    </thead>
    <tbody>
      ${runs.map((r) => {
        const took = r.startedAt && r.finishedAt ? duration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : "—";
        return html`<tr data-run="${r.id}">
          <td><a href="/runs/${r.id}">#${r.id}</a></td>
          <td>${r.job}</td>
          <td>${badge(r.status)}${r.dryRun ? html` <span class="badge quiet">dry run</span>` : ""}</td>
          <td>${r.trigger}</td>
          <td>${time(r.scheduledFor)}</td>
          <td>${took}</td>
          <td>${r.costUsd ? money(r.costUsd) : html`<span class="muted">—</span>`}</td>
          <td class="clip">${r.error ?? r.reason ?? ""}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

export interface RunsFilter {
  job?: string;
  status?: string;
  before?: number;
}

/** `jobIds` fills the job filter (the caller may cache it: a list seconds old is fine there). */
export async function runsPage(
  controls: Controls,
  filter: RunsFilter,
  jobIds: () => Promise<string[]>,
): Promise<SafeHtml> {
  const [page, ids] = await Promise.all([controls.listRuns({ ...filter, limit: PAGE_SIZE }), jobIds()]);
  const query = (extra: Record<string, string | number | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ job: filter.job, status: filter.status, ...extra }))
      if (v !== undefined && v !== "") params.set(k, String(v));
    const text = params.toString();
    return text ? `/runs?${text}` : "/runs";
  };
  const jobs = [...new Set([...ids, ...(filter.job ? [filter.job] : [])])];
  return html`<h1>Runs</h1>
    <form method="get" action="/runs" class="filters">
      <label
        >Job
        <select name="job">
          <option value="">all jobs</option>
          ${jobs.map((id) => html`<option value="${id}" ${id === filter.job ? html` selected` : ""}>${id}</option>`)}
        </select></label
      >
      <label
        >Status
        <select name="status">
          <option value="">any status</option>
          ${STATUSES.map((s) => html`<option value="${s}" ${s === filter.status ? html` selected` : ""}>${s.replace("_", " ")}</option>`)}
        </select></label
      >
      <button class="btn">Filter</button>
    </form>
    ${runsTable(page.runs)}
    <nav class="pager">
      ${filter.before !== undefined ? html`<a href="${query({})}">← Newest</a>` : html`<span></span>`}
      ${page.next !== null ? html`<a href="${query({ before: page.next })}" rel="next">Older →</a>` : html`<span class="muted">End of the list</span>`}
    </nav>`;
}
