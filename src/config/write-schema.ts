/** @module write-schema — `npm run schema`: rewrites schedules.schema.json from the zod schema. */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { schedulesJsonSchemaText } from "./json-schema.ts";

const file = resolve(import.meta.dirname, "../../schedules.schema.json");
writeFileSync(file, schedulesJsonSchemaText());
process.stdout.write(`wrote ${file}\n`);
