/** @module dashboard/format — times, costs, durations and status badges as the dashboard shows them. */
import { html, type SafeHtml } from "./html.ts";

export function money(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "unknown";
  if (usd > 0 && usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

export function tokens(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// Building an Intl.DateTimeFormat costs far more than using one: one per zone, kept.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** "2026-12-03 14:05" in a time zone (UTC unless given), the zone's own wall clock. */
export function when(iso: string | null | undefined, timeZone = "UTC"): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  if (timeZone === "UTC" && iso.endsWith("Z")) return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  try {
    const parts = Object.fromEntries(
      formatter(timeZone)
        .formatToParts(date)
        .map((p) => [p.type, p.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
  } catch {
    return iso;
  }
}

/** "in 5 min" / "3 h ago", from `now`. */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return "";
  const delta = Date.parse(iso) - now;
  const text = duration(Math.abs(delta))
    .replace(/ \d+ s$/, "")
    .replace(/ \d+ min$/, "");
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

const TONE: Record<string, string> = {
  succeeded: "ok",
  failed: "bad",
  timed_out: "bad",
  running: "live",
  queued: "live",
  retrying: "warn",
  interrupted: "warn",
  cancelled: "warn",
  skipped: "quiet",
  missed: "quiet",
  paused: "warn",
  disabled: "quiet",
};

/** A coloured pill for a status; `label` replaces the status's own words. */
export function badge(status: string, label?: string): SafeHtml {
  return html`<span class="badge ${TONE[status] ?? "quiet"}">${label ?? status.replace("_", " ")}</span>`;
}

/** A time element with the full ISO instant as its tooltip. */
export function time(iso: string | null | undefined, timeZone = "UTC"): SafeHtml {
  return iso ? html`<time datetime="${iso}" title="${iso}">${when(iso, timeZone)}</time>` : html`—`;
}
