/**
 * @module sundial — the package's public API, as a skill file imports it:
 * `import { defineSkill, skip, z } from "sundial"`. Re-exports only.
 */
export { defineSkill, skip } from "./skill/define.ts";
export {
  errorCode,
  isRetryable,
  isSundialError,
  MissingCredentialError,
  NonRetryableError,
  ServiceError,
  SundialError,
  type ServiceErrorOptions,
  type SundialErrorCode,
} from "./errors.ts";
export { z } from "zod";
// For skills that put outside text where readers see it (see each module).
export { escapeDiscordText } from "./util/discord-escape.ts";
export { stripUrlUserinfo } from "./util/redact.ts";
export { createPromptFence, type PromptFence } from "./util/prompt-fence.ts";
// The sources `ctx.sources.fetch` reads, for skills' params, and the environment each needs.
export { requiredSourceEnv, sourceSpecSchema } from "./integrations/sources/index.ts";
export type * from "./types.ts";
// Helpers skills share with Sundial itself (see each module's JSDoc).
export { slugify, type SlugOptions } from "./util/slug.ts";
export { imageType, type ImageType } from "./util/image-type.ts";
export { clip, fillTemplate, oneLine, type FillTemplateOptions } from "./util/text.ts";
export { formatDuration, parseDuration } from "./util/duration.ts";
