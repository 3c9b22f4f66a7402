/**
 * @module dashboard/chart — cost per day per job as a stacked bar chart in inline SVG, drawn on
 * the server (no chart library, nothing to download); each bar has a <title> for its figures.
 */
import { money } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";

export interface DailyCost {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  job: string;
  costUsd: number;
}

const W = 960;
const H = 200;
const PAD = { left: 48, right: 8, top: 10, bottom: 24 };
const PALETTE = 8;
/** Jobs drawn on their own; the rest share one "other jobs" colour, so 100 jobs stay readable (and light). */
const SHOWN = 7;
const OTHER = "other jobs";

export function costChart(rows: DailyCost[], days: string[]): SafeHtml {
  const inRange = new Set(days);
  const totalsByJob = new Map<string, number>();
  for (const row of rows)
    if (inRange.has(row.day) && row.costUsd > 0)
      totalsByJob.set(row.job, (totalsByJob.get(row.job) ?? 0) + row.costUsd);
  const ranked = [...totalsByJob].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([job]) => job);
  if (!ranked.length) return html`<p class="muted">No cost recorded in the last ${days.length} days.</p>`;
  const shown = new Set(ranked.length > SHOWN + 1 ? ranked.slice(0, SHOWN) : ranked);
  const jobs = [...shown, ...(shown.size < ranked.length ? [OTHER] : [])];
  const byDay = new Map<string, Map<string, number>>();
  for (const row of rows) {
    if (!inRange.has(row.day)) continue;
    const job = shown.has(row.job) ? row.job : OTHER;
    const day = byDay.get(row.day) ?? new Map<string, number>();
    day.set(job, (day.get(job) ?? 0) + row.costUsd);
    byDay.set(row.day, day);
  }
  const totals = days.map((d) => [...(byDay.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0));
  const max = niceMax(Math.max(...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / days.length;
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const grid = [0, 0.5, 1].map(
    (f) =>
      html`<line
          class="grid"
          x1="${PAD.left}"
          x2="${W - PAD.right}"
          y1="${y(max * f).toFixed(1)}"
          y2="${y(max * f).toFixed(1)}"
        /><text class="axis-label" x="${PAD.left - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end"
          >${money(max * f)}</text
        >`,
  );
  const bars = days.map((day, i) => {
    let base = 0;
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const segments = jobs.map((job, j) => {
      const cost = byDay.get(day)?.get(job) ?? 0;
      if (cost <= 0) return "";
      const top = y(base + cost);
      const height = y(base) - top;
      base += cost;
      return html`<rect
        class="c${j % PALETTE}"
        x="${x.toFixed(1)}"
        y="${top.toFixed(1)}"
        width="${barW.toFixed(1)}"
        height="${Math.max(0.5, height).toFixed(1)}"
        ><title>${day} · ${job}: ${money(cost)}</title></rect
      >`;
    });
    const label =
      i % Math.ceil(days.length / 8) === 0
        ? html`<text class="axis-label" x="${(x + barW / 2).toFixed(1)}" y="${H - 6}" text-anchor="middle"
            >${day.slice(5)}</text
          >`
        : "";
    return html`${segments}${label}`;
  });
  const legend = jobs.map(
    (job, j) =>
      html`<li>
        <svg viewBox="0 0 10 10" class="swatch"><rect class="c${j % PALETTE}" width="10" height="10" /></svg>${job}
      </li>`,
  );
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Cost per day per job, last ${days.length} days">
      ${grid}${bars}
    </svg>
    <figcaption>
      <ul class="legend">
        ${legend}
      </ul>
    </figcaption>
  </figure>`;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** The last `n` UTC days, oldest first, as YYYY-MM-DD. */
export function lastDays(n: number, now: number): string[] {
  return Array.from({ length: n }, (_, i) => new Date(now - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}
