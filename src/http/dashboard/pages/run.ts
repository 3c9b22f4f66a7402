/**
 * @module dashboard/pages/run — one run: status, times, tokens and cost, its error, its steps on a
 * timeline, and each delivery with its own status and link; Cancel while active, Redeliver when a
 * delivery failed.
 */
import type { RunDetail } from "../../../control/types.ts";
import { badge, duration, money, time, tokens } from "../format.ts";
import { html, link, type SafeHtml } from "../html.ts";
import { action } from "../layout.ts";
import { timelineView } from "../timeline.ts";

const ACTIVE = new Set(["queued", "running", "retrying"]);

interface DeliveryRow {
  to: string;
  status: string;
  url: string | null;
  error: string | null;
}

/**
 * Deliveries from the run's `deliver:<key>:<n>:<target>` steps (each has its own status and
 * error) matched in order with the receipts the ledger kept (their links).
 */
export function deliveryRows(run: RunDetail): DeliveryRow[] {
  const receipts = [...run.deliveries];
  const rows: DeliveryRow[] = [];
  for (const step of run.steps) {
    const match = /^deliver:.*:\d+:([^:]+)$/.exec(step.id);
    if (!match) continue;
    const to = match[1] as string;
    const index = step.status === "succeeded" ? receipts.findIndex((r) => r.to === to) : -1;
    const receipt = index >= 0 ? receipts.splice(index, 1)[0] : undefined;
    rows.push({ to, status: step.status, url: receipt?.url ?? null, error: step.error });
  }
  for (const receipt of receipts)
    rows.push({ to: receipt.to, status: run.dryRun ? "dry run" : "succeeded", url: receipt.url, error: null });
  return rows;
}

export function runPage(run: RunDetail, now: number): SafeHtml {
  const back = `/runs/${run.id}`;
  const deliveries = deliveryRows(run);
  const canRedeliver = !ACTIVE.has(run.status) && deliveries.some((d) => d.status === "failed");
  const took = run.startedAt
    ? duration((run.finishedAt ? Date.parse(run.finishedAt) : now) - Date.parse(run.startedAt))
    : "—";
  const u = run.usage;
  return html`<p class="crumbs">
      <a href="/runs">Runs</a> / <a href="/jobs/${encodeURIComponent(run.job)}">${run.job}</a> /
    </p>
    <h1>Run #${run.id} ${badge(run.status)}${run.dryRun ? html` <span class="badge quiet">dry run</span>` : ""}</h1>
    <div class="actions">
      ${ACTIVE.has(run.status) ? action(`/runs/${run.id}/cancel`, "Cancel", back, { tone: "danger" }) : ""}
      ${canRedeliver ? action(`/runs/${run.id}/redeliver`, "Redeliver failed targets", back) : ""}
    </div>
    <dl class="kv wide">
      <dt>Job</dt>
      <dd><a href="/jobs/${encodeURIComponent(run.job)}">${run.job}</a> <span class="muted">(${run.skill})</span></dd>
      <dt>Trigger</dt>
      <dd>
        ${run.trigger}${run.resumeOf ? html` (resumes <a href="/runs/${run.resumeOf}">#${run.resumeOf}</a>)` : ""}
      </dd>
      <dt>Scheduled</dt>
      <dd>${time(run.scheduledFor)} UTC</dd>
      <dt>Started</dt>
      <dd>${time(run.startedAt)}</dd>
      <dt>Finished</dt>
      <dd>${time(run.finishedAt)} <span class="muted">(${took})</span></dd>
      <dt>Attempt</dt>
      <dd>${run.attempt}</dd>
      <dt>Tokens</dt>
      <dd>
        ${tokens(u.inputTokens)} in · ${tokens(u.outputTokens)} out · ${tokens(u.cacheReadTokens)} cache read ·
        ${tokens(u.cacheWriteTokens)} cache write
      </dd>
      <dt>Cost</dt>
      <dd>${money(run.costUsd)}</dd>
      ${
        run.reason
          ? html`<dt>Reason</dt>
              <dd>${run.reason}</dd>`
          : ""
      }
    </dl>
    ${
      run.error
        ? html`<h2>Error</h2>
            <pre class="error-box">${run.error}</pre>`
        : ""
    }
    <h2>Steps</h2>
    ${timelineView(run, run.steps, now)}
    <h2>Deliveries</h2>
    ${
      deliveries.length
        ? html`<table>
            <thead>
              <tr>
                <th>Target</th>
                <th>Status</th>
                <th>Link</th>
              </tr>
            </thead>
            <tbody>
              ${deliveries.map(
                (d) =>
                  html`<tr>
                    <td>${d.to}</td>
                    <td>${badge(d.status)}${d.error ? html`<div class="small">${d.error}</div>` : ""}</td>
                    <td>${d.url ? link(d.url, d.url) : html`<span class="muted">—</span>`}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p class="muted">Nothing was delivered.</p>`
    }`;
}
