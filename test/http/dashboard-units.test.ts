/** The dashboard's small pure pieces: escaping, safe links, cron in words, sessions and origins. */
import { describe, expect, it } from "vitest";
import { cronToWords } from "../../src/http/dashboard/cron-words.ts";
import { escapeHtml, html, link, raw, safeHref } from "../../src/http/dashboard/html.ts";
import { safeBack, safeEqual, sameOrigin, sessionValue } from "../../src/http/dashboard/session.ts";
import { failureStreaks } from "../../src/http/dashboard/data.ts";
import type { RunRecord } from "../../src/types.ts";

describe("escaping", () => {
  it("escapes every character that can open markup or leave an attribute", () => {
    expect(escapeHtml(`<script>"x" & 'y' \`z\`</script>`)).toBe(
      "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39; &#96;z&#96;&lt;/script&gt;",
    );
  });
  it("escapes interpolations, joins arrays, keeps nested html and raw as they are", () => {
    const hostile = `<img src=x onerror=alert(1)>`;
    expect(
      html`<p title="${hostile}">${[hostile, html`<b>${hostile}</b>`]}${null}${false}${raw("<br>")}</p>`.value,
    ).toBe(
      `<p title="&lt;img src=x onerror=alert(1)&gt;">&lt;img src=x onerror=alert(1)&gt;<b>&lt;img src=x onerror=alert(1)&gt;</b><br></p>`,
    );
  });
  it("links only http(s) URLs", () => {
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref(" JavaScript:alert(1)")).toBeNull();
    expect(safeHref("data:text/html,<script>")).toBeNull();
    expect(safeHref("/relative")).toBeNull();
    expect(safeHref("https://example.test/a?b=<c>")).toBe("https://example.test/a?b=%3Cc%3E");
    expect(link("javascript:alert(1)", "x").value).toBe("<span>x</span>");
    expect(link('https://example.test/"onmouseover="x', "y").value).not.toContain('"onmouseover');
  });
});

describe("cronToWords", () => {
  it.each([
    ["0 8 * * 1-5", "at 08:00 on Monday to Friday"],
    ["30 6 * * *", "at 06:30 every day"],
    ["0 9 * * 1", "at 09:00 on Monday"],
    ["0 9 * * 1,3,5", "at 09:00 on Monday, Wednesday and Friday"],
    ["*/15 * * * *", "every 15 minutes"],
    ["* * * * *", "every minute"],
    ["0 * * * *", "every hour, on the hour"],
    ["5 */2 * * *", "every 2 hours at minute 5"],
    ["0 7,19 * * *", "at 07:00, 19:00 every day"],
    ["0 0 1 * *", "at 00:00 on the 1st"],
    ["0 12 1,15 1 *", "at 12:00 on the 1st and 15th in January"],
    ["0 0 8 * * 0", "at 08:00 on Sunday"],
  ])("%s → %s", (cron, words) => expect(cronToWords(cron)).toBe(words));
  it("falls back to the expression for what it does not know", () => {
    for (const cron of ["0 8 * * MON", "0 8 L * *", "0 8 1 * 1", "15 10 * * 1#2", "nonsense", "30 0 8 * * *"])
      expect(cronToWords(cron)).toBe(cron);
  });
});

describe("sessions and origins", () => {
  it("derives the session from the token without containing it, and compares in constant time", () => {
    const value = sessionValue("secret-token");
    expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(value).not.toContain("secret-token");
    expect(sessionValue("other-token")).not.toBe(value);
    expect(safeEqual(value, sessionValue("secret-token"))).toBe(true);
    expect(safeEqual(value, value.slice(0, 63))).toBe(false);
    expect(safeEqual("", "x")).toBe(false);
  });
  it("accepts only forms from this host", () => {
    expect(sameOrigin({ origin: "http://127.0.0.1:8080", host: "127.0.0.1:8080" })).toBe(true);
    expect(sameOrigin({ origin: "http://evil.test", host: "127.0.0.1:8080" })).toBe(false);
    expect(sameOrigin({ referer: "http://127.0.0.1:8080/jobs", host: "127.0.0.1:8080" })).toBe(true);
    expect(sameOrigin({ origin: "null", referer: "http://evil.test/", host: "127.0.0.1:8080" })).toBe(false);
    expect(sameOrigin({ host: "127.0.0.1:8080" })).toBe(false);
    expect(sameOrigin({ origin: "http://127.0.0.1:8080" })).toBe(false);
  });
  it("goes back only to a path of this site", () => {
    expect(safeBack("/jobs?x=1")).toBe("/jobs?x=1");
    for (const bad of ["//evil.test", "/\\evil.test", "https://evil.test", "javascript:alert(1)", "jobs", 42])
      expect(safeBack(bad)).toBe("/");
  });
});

describe("failure streaks", () => {
  const r = (job: string, status: string): RunRecord => ({ job, status, dryRun: false }) as RunRecord;
  it("counts failures at the head of each job's history, through skipped and missed rows", () => {
    const streaks = failureStreaks([
      r("a", "failed"),
      r("a", "skipped"),
      r("a", "timed_out"),
      r("a", "succeeded"),
      r("a", "failed"),
      r("b", "succeeded"),
      r("b", "failed"),
    ]);
    expect(streaks.get("a")).toBe(2);
    expect(streaks.get("b")).toBeUndefined();
  });
});
