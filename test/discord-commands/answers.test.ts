/** The command answers stay within Discord's embed limits and show outside text inert. */
import { describe, expect, it } from "vitest";
import { embedSize } from "../../src/deliver/discord-messages.ts";
import { jobsEmbed, runEmbed } from "../../src/discord-commands/answers.ts";
import { alertButtons, parseButton } from "../../src/discord-commands/buttons.ts";
import type { RunDetail, JobView } from "../../src/control/types.ts";

const hostile = "[click](https://evil.example) @everyone <@123456789012345678> **bold** # heading\n> quote ";
const run = (over: Partial<RunDetail> = {}): RunDetail => ({
  id: 7,
  job: "digest",
  skill: "digest",
  trigger: "manual",
  status: "failed",
  reason: null,
  scheduledFor: "2026-12-03T10:00:00.000Z",
  startedAt: "2026-12-03T10:00:00.000Z",
  finishedAt: "2026-12-03T10:01:00.000Z",
  attempt: 1,
  error: hostile.repeat(200),
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } as RunDetail["usage"],
  costUsd: 0.0123,
  deliveries: Array.from({ length: 40 }, (_, i) => ({
    to: "discord",
    url: `https://chat.example.test/channels/1/2/${i}`,
    status: "failed" as const,
    error: hostile,
  })),
  delivery: "failed",
  resumeOf: null,
  dryRun: false,
  steps: Array.from({ length: 300 }, (_, i) => ({
    id: `step-${i}${hostile}`,
    status: "failed" as const,
    startedAt: "",
    finishedAt: null,
    error: hostile,
    usage: {} as RunDetail["usage"],
    costUsd: null,
    reusedFrom: null,
  })),
  ...over,
});

describe("command answers", () => {
  it("a huge hostile run fits Discord's embed limits, with no planted link or mention", () => {
    const embed = runEmbed(run());
    expect(embedSize(embed)).toBeLessThanOrEqual(6000);
    expect((embed.title ?? "").length).toBeLessThanOrEqual(256);
    for (const field of embed.fields ?? []) expect(field.value.length).toBeLessThanOrEqual(1024);
    const text = JSON.stringify(embed);
    expect(text).not.toContain("](https://evil");
    expect(text).not.toMatch(/@everyone/);
    expect(text).not.toMatch(/<@\d/);
    expect(text).toContain("$0.0123");
    expect(text).toContain("https://chat.example.test/channels/1/2/0");
  });

  it("many jobs are cut within the description limit", () => {
    const jobs: JobView[] = Array.from({ length: 500 }, (_, i) => ({
      id: `job-${i}-${"x".repeat(60)}`,
      skill: "s",
      cron: "* * * * *",
      timezone: "UTC",
      enabled: true,
      disabledReason: null,
      nextRuns: ["2026-12-03T10:00:00.000Z"],
      paused: i % 2 === 0,
      pausedReason: hostile,
      lastRun: null,
    }));
    const embed = jobsEmbed(jobs);
    expect((embed.description ?? "").length).toBeLessThanOrEqual(4096);
    expect(embed.description).toMatch(/…$/);
  });

  it("alert button ids round-trip and stay within 100 characters", () => {
    const [row] = alertButtons({ runId: 42, job: "daily-digest" });
    const ids = (row?.components ?? []).map((button) => ("custom_id" in button ? button.custom_id : ""));
    expect(ids.map(parseButton)).toEqual([
      { kind: "show", run: 42 },
      { kind: "again", job: "daily-digest" },
      { kind: "pause", job: "daily-digest" },
    ]);
    expect(
      alertButtons({ runId: 1, job: "j".repeat(100) })[0]?.components.map((b) => ("label" in b ? b.label : "")),
    ).toEqual(["Show run"]);
    expect(parseButton("other:thing")).toBeNull();
  });
});
