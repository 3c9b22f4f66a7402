/**
 * The configuration hash daemons compare (nodes.ts): the same schedules.json however it is
 * formatted or ordered hashes alike, any change of value does not, and the hash is the one the
 * previous (hand-built) canonical JSON gave, so daemons of both versions sharing a ledger agree.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { configHash } from "../../src/daemon/nodes.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function workspace(schedules: string): { schedules: string; skillsDir: string } {
  const dir = mkdtempSync(join(tmpdir(), "sundial-hash-"));
  dirs.push(dir);
  mkdirSync(join(dir, "skills"));
  writeFileSync(join(dir, "skills", "noop.ts"), "export default {};\n");
  writeFileSync(join(dir, "schedules.json"), schedules);
  return { schedules: join(dir, "schedules.json"), skillsDir: join(dir, "skills") };
}

/** The canonical JSON of the previous version, written out by hand. */
function handCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(handCanonical).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${handCanonical((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

describe("configHash", () => {
  it("ignores formatting and key order, sees every value, and matches the previous canonical form", () => {
    const raw = `{"jobs":[{"cron":"0 9 * * *","params":{"a":null,"__proto__":{"b":true},"z":[1,2.5,"x\\u2028"]},"skill":"noop","id":"a"},{"deliver":[{"to":"stdout"}],"enabled":false,"cron":"*/5 * * * * *","id":"b","skill":"noop"}],"timezone":"Europe/Berlin"}`;
    const compact = workspace(raw);
    const pretty = workspace(JSON.stringify(JSON.parse(raw), null, 2));
    const changed = workspace(raw.replace("0 9 * * *", "0 10 * * *"));
    expect(configHash(pretty)).toBe(configHash(compact));
    expect(configHash(changed)).not.toBe(configHash(compact));
    const previous = createHash("sha256");
    previous.update(`schedules.json\0${handCanonical(JSON.parse(raw))}\0`);
    previous.update("noop.ts\0");
    previous.update("export default {};\n");
    previous.update("\0");
    expect(configHash(compact)).toBe(previous.digest("hex").slice(0, 16));
  });
});
