/** @module json-schema — `schedules.schema.json`, generated from the zod schema that validates the file. */
import { z } from "zod";
import { schedulesSchema } from "./schema.ts";

export function generateSchedulesJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(schedulesSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    title: "Sundial schedules.json",
    description:
      "Jobs that Sundial runs on cron schedules. Generated from src/config/schema.ts by `npm run schema`; do not edit by hand.",
  };
}

export function schedulesJsonSchemaText(): string {
  return `${JSON.stringify(generateSchedulesJsonSchema(), null, 2)}\n`;
}
