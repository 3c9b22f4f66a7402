/** @module fields — zod fields shared by the schemas of schedules.json and of the adapters it names. */
import { z } from "zod";

/** The NAME of an environment variable (its value is read at run time, never written in the file). */
export const envNameSchema = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, { message: "expected the NAME of an environment variable, like DIGEST_WEBHOOK" });
