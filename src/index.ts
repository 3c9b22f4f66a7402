/**
 * @module sundial — the package's public API, as a skill file imports it:
 * `import { defineSkill, skip, z } from "sundial"`. Re-exports only.
 */
export { defineSkill, skip } from "./skill/define.ts";
export { isRetryable, NonRetryableError, ServiceError } from "./errors.ts";
export { z } from "zod";
// For skills that put outside text where readers see it (see each module).
export { escapeDiscordText } from "./util/discord-escape.ts";
export { stripUrlUserinfo } from "./util/redact.ts";
export { createPromptFence, type PromptFence } from "./util/prompt-fence.ts";
// The sources `ctx.sources.fetch` reads, for skills' params, and the environment each needs.
export { requiredSourceEnv, sourceSpecSchema } from "./integrations/sources/index.ts";
export type * from "./types.ts";
