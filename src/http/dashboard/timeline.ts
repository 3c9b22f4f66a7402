/**
 * @module dashboard/timeline — a run's steps on one time axis (the browser twin of `show`'s
 * terminal timeline): each bar is an SVG rect placed by its start and end, so steps that ran in
 * parallel overlap visibly. SVG geometry attributes, not inline styles, keep the strict CSP.
 */
import type { RunRecord, StepRecord } from "../../types.ts";
import { duration } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

const WIDTH = 1000;

export function timelineView(run: RunRecord, steps: StepRecord[], now: number): SafeHtml {
  if (!steps.length) return html`<p class="muted">No steps were recorded for this run.</p>`;
  const start = Date.parse(run.startedAt ?? steps[0]?.startedAt ?? run.scheduledFor);
  const end = Math.max(
    start + 1,
    run.finishedAt ? Date.parse(run.finishedAt) : now,
    ...steps.map((s) => Date.parse(s.finishedAt ?? new Date(now).toISOString())),
  );
  const span = end - start;
  let sum = 0;
  const rows = steps.map((step) => {
    const s = Date.parse(step.startedAt);
    const e = step.finishedAt ? Date.parse(step.finishedAt) : now;
    const reused = step.reusedFrom !== null;
    if (!reused) sum += e - s;
    const x = Math.max(0, Math.min(WIDTH - 2, ((s - start) / span) * WIDTH));
    const w = Math.max(2, Math.min(WIDTH - x, ((e - s) / span) * WIDTH));
    const tone = reused ? "reused" : step.status === "failed" ? "bad" : step.status === "running" ? "live" : "ok";
    const note = reused ? `reused from #${step.reusedFrom}` : `${step.status} · ${duration(e - s)}`;
    return html`<li class="step">
      <span class="step-name" title="${step.id}">${step.id}</span>
      <svg
        class="track"
        viewBox="0 0 ${WIDTH} 10"
        preserveAspectRatio="none"
        role="img"
        aria-label="${step.id}: ${note}"
      >
        <rect class="bar ${tone}" data-step="${step.id}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="10">
          <title>${step.id}: ${note}</title>
        </rect>
      </svg>
      <span class="step-note">${note}${step.costUsd ? ` · $${step.costUsd.toFixed(4)}` : ""}</span>
      ${step.error ? html`<pre class="step-error">${step.error}</pre>` : ""}
    </li>`;
  });
  const parallel = sum > span * 1.05;
  return html`<ol class="timeline">
      <li class="axis">
        <span></span
        ><span class="ticks"><span>0</span><span>${duration(span / 2)}</span><span>${duration(span)}</span></span
        ><span></span>
      </li>
      ${rows}
    </ol>
    <p class="muted">
      Wall time ${duration(span)} · sum of step times ${duration(sum)}${parallel ? " — steps ran in parallel" : ""}
    </p>`;
}
