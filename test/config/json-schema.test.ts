/**
 * @module json-schema.test — the committed schedules.schema.json is exactly what `npm run schema`
 * (src/config/write-schema.ts) generates from the zod schema, so editors validate what Sundial does.
 */
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { generateSchedulesJsonSchema, schedulesJsonSchemaText } from "../../src/config/json-schema.ts";
import { schedulesSchema } from "../../src/config/schema.ts";

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const committedText = readFileSync(resolve(repoRoot, "schedules.schema.json"), "utf8");

type JsonObject = Record<string, unknown> & {
  properties: Record<string, JsonObject>;
  items: JsonObject;
  required?: string[];
};

describe("schedules.schema.json", () => {
  it("is byte for byte what `npm run schema` writes (run it after changing src/config/schema.ts)", () => {
    expect(committedText).toBe(schedulesJsonSchemaText());
  });

  it("is zod's input-side JSON Schema of schedulesSchema, plus a title and description", () => {
    const generated = z.toJSONSchema(schedulesSchema, { io: "input", unrepresentable: "any" }) as Record<
      string,
      unknown
    >;
    const committed = JSON.parse(committedText) as Record<string, unknown>;
    const { title, description, ...rest } = committed;
    expect(rest).toEqual(generated);
    expect(title).toBe("Sundial schedules.json");
    expect(description).toContain("npm run schema");
    expect(generateSchedulesJsonSchema()).toEqual(committed);
  });

  it("is strict like the zod schema and requires what a job cannot go without", () => {
    const committed = JSON.parse(committedText) as JsonObject;
    expect(committed.additionalProperties).toBe(false);
    const jobs = committed.properties.jobs as JsonObject;
    expect(jobs.items.additionalProperties).toBe(false);
    expect(jobs.items.required?.sort()).toEqual(["cron", "id", "skill"]);
    // Input side: fields with defaults stay optional for the person writing the file.
    expect(committed.required ?? []).toEqual([]);
    expect(Object.keys(jobs.items.properties)).toEqual(
      expect.arrayContaining([
        "timezone",
        "enabled",
        "params",
        "deliver",
        "timeout",
        "retries",
        "retryBackoff",
        "overlap",
        "catchUp",
        "catchUpWindow",
        "jitter",
      ]),
    );
  });
});
