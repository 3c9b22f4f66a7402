/**
 * @module sources — the registry of source kinds a digest reads (`ctx.sources.fetch`). Each kind is
 * one file exporting one definition (`./define.ts`); the schema of a source (`sourceSpecSchema`,
 * which skills import from "sundial" for their params), the `SourceSpec` type, the environment a
 * source needs and the dispatch of a fetch are derived from the list below. A new kind: one file
 * (plus its test) and one line in `sourceDefinitions`.
 */
import { z } from "zod";
import type { FeedItem } from "../../types.ts";
import type { SourceDefinition, SourceFetch, SourceFetchOptions, SourceServices } from "./define.ts";
import { feedSourceDefinition } from "./feed.ts";
import { githubSourceDefinition } from "./github.ts";
import { jsonSourceDefinition } from "./json.ts";

export const sourceDefinitions = [feedSourceDefinition, jsonSourceDefinition, githubSourceDefinition] as const;

type Definitions = typeof sourceDefinitions;
type SchemasOf<D extends Definitions> = { -readonly [K in keyof D]: D[K]["schema"] };

function schemasOf<const D extends Definitions>(definitions: D): SchemasOf<D> {
  return definitions.map((definition) => definition.schema) as SchemasOf<D>;
}

/** One source of a skill's params, any kind: `{"type": "rss", "url": …}`, `{"type": "github", "repo": …}`… */
export const sourceSpecSchema = z.discriminatedUnion("type", schemasOf(sourceDefinitions));
export type SourceSpec = z.output<typeof sourceSpecSchema>;

type AnyDefinition = SourceDefinition<string, never>;
const byType = new Map<string, AnyDefinition>(
  sourceDefinitions.flatMap((definition) =>
    definition.types.map((type) => [type, definition as AnyDefinition] as const),
  ),
);

function definitionOf(source: SourceSpec): AnyDefinition {
  const definition = byType.get(source.type);
  if (!definition) throw new Error(`no source kind "${source.type}"`);
  return definition;
}

/** The environment variables `source` needs (a skill's `env` lists them, so `check` reports them). */
export function requiredSourceEnv(source: SourceSpec): string[] {
  // The source was parsed by the union above, so it is what its definition's function expects.
  return definitionOf(source).requiredEnv(source as never);
}

/** Imports every kind's module (and SDK) now. */
export async function preloadSources(): Promise<void> {
  await Promise.all(sourceDefinitions.map((definition) => definition.preload()));
}

/** One run's `ctx.sources.fetch`: each kind's fetch made on its first use, then reused for the run. */
export function createSourceFetch(
  services: SourceServices,
): (source: SourceSpec, options?: SourceFetchOptions) => Promise<FeedItem[]> {
  const made = new Map<AnyDefinition, SourceFetch<never>>();
  return async (source, options = {}) => {
    const definition = definitionOf(source);
    let fetch = made.get(definition);
    if (!fetch) {
      fetch = definition.create(services);
      made.set(definition, fetch);
    }
    return fetch(source as never, options);
  };
}
