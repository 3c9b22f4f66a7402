/**
 * @module discord-commands/answers — the embeds the commands answer with: every outside text
 * escaped for Discord's markdown and every part cut to Discord's embed limits (title 256,
 * description 4096, 25 fields of 1024, 6000 in all).
 */
import type { APIEmbed } from "discord-api-types/v10";
import type { HealthBody } from "../http/health.ts";
import type { JobView, RunDetail } from "../control/types.ts";
import type { RunRecord } from "../types.ts";
import { escapeDiscordText } from "../util/discord-escape.ts";

const COLOR = { ok: 0x2e7d32, warn: 0xf9a825, bad: 0xc62828, info: 0x546e7a } as const;

/** Escaped and cut to `max` characters (an escape is never split: the cut is on the escaped text's boundary). */
export function plain(text: string, max: number): string {
  const escaped = escapeDiscordText(text);
  if (escaped.length <= max) return escaped;
  let cut = escaped.slice(0, max - 1);
  if (cut.endsWith("\\") && !cut.endsWith("\\\\")) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function lines(list: string[], max: number): string {
  let out = "";
  for (const line of list) {
    if (out.length + line.length + 1 > max - 2) return `${out}…`;
    out += (out ? "\n" : "") + line;
  }
  return out || "—";
}

const colorOf = (status: string) =>
  status === "succeeded" ? COLOR.ok : ["failed", "timed_out", "interrupted"].includes(status) ? COLOR.bad : COLOR.info;
const cost = (usd: number | null) => (usd === null ? "unknown" : `$${usd.toFixed(4)}`);
const when = (iso: string | null) => (iso ? `<t:${Math.floor(Date.parse(iso) / 1000)}:R>` : "—");

export function statusEmbed(health: HealthBody, jobs: JobView[]): APIEmbed {
  const fields = Object.entries(health.checks).map(([name, check]) => ({
    name,
    value: plain(`${check.status}${typeof check.message === "string" ? `: ${check.message}` : ""}`, 1024),
    inline: true,
  }));
  const paused = jobs.filter((job) => job.paused).length;
  return {
    title: `Sundial: ${health.status}`,
    color: health.status === "ok" ? COLOR.ok : health.status === "degraded" ? COLOR.warn : COLOR.bad,
    description: `${jobs.length} jobs, ${paused} paused`,
    fields: fields.slice(0, 25),
  };
}

export function jobsEmbed(jobs: JobView[]): APIEmbed {
  const rows = jobs.map((job) => {
    const state = !job.enabled
      ? `disabled: ${job.disabledReason ?? ""}`
      : job.paused
        ? `paused${job.pausedReason ? `: ${job.pausedReason}` : ""}`
        : `next ${job.nextRuns[0] ?? "—"}`;
    const last = job.lastRun ? `, last #${job.lastRun.id} ${job.lastRun.status}` : "";
    return `**${plain(job.id, 100)}** (${plain(job.cron, 60)}) ${plain(state + last, 300)}`;
  });
  return { title: "Jobs", color: COLOR.info, description: lines(rows, 4096) };
}

export function runsEmbed(runs: RunRecord[], job?: string): APIEmbed {
  const rows = runs.map(
    (run) =>
      `#${run.id} **${plain(run.job, 100)}** ${run.status}${run.dryRun ? " (dry)" : ""} ${when(run.startedAt ?? run.scheduledFor)}`,
  );
  return {
    title: job ? `Runs of ${plain(job, 200)}` : "Latest runs",
    color: COLOR.info,
    description: runs.length ? lines(rows, 4096) : "No runs yet.",
  };
}

export function runEmbed(run: RunDetail): APIEmbed {
  const steps = run.steps.map(
    (step) =>
      `${step.status === "succeeded" ? "✓" : step.status === "failed" ? "✗" : "…"} ${plain(step.id, 100)}${step.reusedFrom ? ` (reused from #${step.reusedFrom})` : ""}${step.error ? `: ${plain(step.error, 200)}` : ""}`,
  );
  const deliveries = run.deliveries.map(
    (d) =>
      `${plain(d.to, 50)} ${d.status}${d.url && /^https?:\/\//.test(d.url) ? ` ${d.url.slice(0, 300)}` : ""}${d.error ? `: ${plain(d.error, 200)}` : ""}`,
  );
  const fields = [
    {
      name: "Status",
      value: `${run.status}${run.dryRun ? " (dry run)" : ""}${run.reason ? `: ${plain(run.reason, 900)}` : ""}`,
      inline: true,
    },
    { name: "Trigger", value: run.trigger, inline: true },
    { name: "Cost", value: cost(run.costUsd), inline: true },
    { name: "Started", value: when(run.startedAt), inline: true },
    { name: "Finished", value: when(run.finishedAt), inline: true },
    { name: "Steps", value: lines(steps, 1024) },
    { name: "Deliveries", value: lines(deliveries, 1024) },
  ];
  if (run.error) fields.push({ name: "Error", value: plain(run.error, 1024) });
  return { title: `Run #${run.id} of ${plain(run.job, 200)}`, color: colorOf(run.status), fields };
}

/** A short answer; `markdown` is Sundial's own text, with any outside part already passed through `plain`. */
export function noticeEmbed(markdown: string, tone: keyof typeof COLOR = "info"): APIEmbed {
  return { description: markdown.slice(0, 4096), color: COLOR[tone] };
}
