/**
 * @module sundial — the package's public API, as a skill file imports it:
 * `import { defineSkill, skip, z } from "sundial"`. Re-exports only.
 */
export { defineSkill, skip } from "./skill/define.ts";
export { isRetryable, NonRetryableError, ServiceError } from "./errors.ts";
export { z } from "zod";
export type * from "./types.ts";
