/**
 * @module load — finds and imports the skills in the skills directory (`<name>.ts` or
 * `<name>/index.ts`). Each load imports the entry as `…?sundial-skill=<load id>`, and
 * `./loader-hooks.js` gives the skill's own files that query too, so an edited skill (and the
 * files it imports) takes effect without a restart, while zod and `"sundial"` stay the process's
 * single instances.
 */
import { readdirSync, statSync } from "node:fs";
import * as nodeModule from "node:module";
import { basename, dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { SkillDefinition } from "../types.ts";
import { errorMessage, type Problem } from "../errors.ts";
import { compiledSkill, stopCompiler } from "./compile.ts";

/** Node's own `import()` (see native-import.cjs for why it is not simply `import()` here). */
const nativeImport = nodeModule.createRequire(import.meta.url)("./native-import.cjs") as (
  url: string,
) => Promise<unknown>;

/** Set by bin/sundial.js once tsx is registered; kept on globalThis as vitest may evaluate this file more than once per process. */
const TSX_REGISTERED = Symbol.for("sundial.tsxRegistered");
const HOOKS_REGISTERED = Symbol.for("sundial.skillHooksRegistered");
/** Node ≥ 22.15 (absent from Node 20's types). */
const registerHooks = (nodeModule as { registerHooks?: (hooks: { resolve: unknown; load: unknown }) => unknown })
  .registerHooks;

/**
 * Once per process, before the first skill is imported: tsx (unless the `sundial` bin did it), then
 * the skill hooks, after it so they wrap its loads. Not before: a command run from dist/ (compiled
 * ahead of time) that loads no skill never loads tsx, nor sends its imports through loader hooks.
 */
function registerLoaders(): Promise<void> {
  const flags = globalThis as { [TSX_REGISTERED]?: boolean | Promise<void>; [HOOKS_REGISTERED]?: Promise<void> };
  flags[TSX_REGISTERED] ??= import("tsx/esm/api").then(({ register }) => void register());
  const tsx = flags[TSX_REGISTERED];
  flags[HOOKS_REGISTERED] ??= (async () => {
    await tsx;
    // In-thread where Node can (tsx's hooks are there too on such a Node), else on the loader thread.
    if (registerHooks) {
      const hooks = await import("./loader-hooks.js");
      registerHooks({ resolve: hooks.resolveSync, load: hooks.loadSync });
    } else {
      nodeModule.register("./loader-hooks.js", import.meta.url);
    }
  })();
  return flags[HOOKS_REGISTERED];
}

/** Distinct for every import, so Node never hands back an earlier instance (or an earlier failure). */
const loadSession = Date.now().toString(36);
let loadCount = 0;

export interface LoadedSkill {
  name: string;
  file: string;
  definition: SkillDefinition;
  /** Sizes and times of the skill's files when loaded: an unchanged skill is not imported again. */
  fingerprint?: string;
}

export interface SkillSet {
  skills: Map<string, LoadedSkill>;
  problems: Problem[];
}

const SKILL_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** The skill entry files in `dir`, each with the name its path gives it. */
export function findSkillFiles(dir: string): { name: string; file: string }[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const found: { name: string; file: string }[] = [];
  for (const entry of entries) {
    if (entry.startsWith(".") || entry.startsWith("_") || entry.endsWith(".test.ts") || entry.endsWith(".d.ts"))
      continue;
    const path = join(dir, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      const index = join(path, "index.ts");
      if (statSync(index, { throwIfNoEntry: false })?.isFile()) found.push({ name: entry, file: index });
    } else if (stat?.isFile() && entry.endsWith(".ts")) {
      found.push({ name: basename(entry, ".ts"), file: path });
    }
  }
  return found;
}

/** A cheap summary of the skills directory (paths, sizes, modification times) to notice edits. */
export function skillsFingerprint(dir: string): string {
  const parts: string[] = [];
  const walk = (current: string, depth: number) => {
    let entries: string[];
    try {
      entries = readdirSync(current).sort();
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith(".") || entry === "node_modules") continue;
      const path = join(current, entry);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory() && depth < 4) walk(path, depth + 1);
      else if (stat.isFile()) parts.push(`${relative(dir, path)}:${stat.size}:${stat.mtimeMs}`);
    }
  };
  walk(dir, 0);
  return parts.join("|");
}

function topLevelFingerprint(dir: string): string {
  return readdirSync(dir)
    .filter((entry) => entry.endsWith(".ts"))
    .sort()
    .map((entry) => {
      const stat = statSync(join(dir, entry), { throwIfNoEntry: false });
      return `${entry}:${stat?.size}:${stat?.mtimeMs}`;
    })
    .join("|");
}

function shapeProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null)
    return "has no default export; write `export default defineSkill({ … })`";
  const skill = value as Partial<SkillDefinition>;
  if (typeof skill.name !== "string") return "its definition has no `name`";
  if (typeof skill.description !== "string") return "its definition has no `description`";
  if (typeof (skill.params as { safeParse?: unknown } | undefined)?.safeParse !== "function")
    return "its `params` is not a zod schema; use `z.object({ … })`";
  if (typeof skill.run !== "function") return "its definition has no `run(ctx)` function";
  return null;
}

/**
 * Loads every skill in `dir`. With `previous`, a skill whose new version fails to load keeps its
 * previous version (and the failure is still reported), so a bad edit never stops a working job.
 */
export async function loadSkills(dir: string, previous?: Map<string, LoadedSkill>): Promise<SkillSet> {
  const skills = new Map<string, LoadedSkill>();
  const problems: Problem[] = [];
  let topLevel: string | undefined;
  for (const { name, file } of findSkillFiles(dir)) {
    const shown = relative(process.cwd(), file) || file;
    if (!SKILL_NAME.test(name)) {
      problems.push({
        file: shown,
        path: "",
        message: `"${name}" is not a valid skill name`,
        fix: "name skill files with lowercase letters, digits and hyphens",
        skill: name,
      });
      continue;
    }
    // Node never frees a module, so only a skill whose files changed is imported again (its own
    // files: packages and "sundial" are shared). A single-file skill may import its top-level neighbours, so any of those counts.
    const fingerprint =
      basename(file) === "index.ts" ? skillsFingerprint(dirname(file)) : (topLevel ??= topLevelFingerprint(dir));
    const unchanged = previous?.get(name);
    if (unchanged && unchanged.file === file && unchanged.fingerprint === fingerprint) {
      skills.set(name, unchanged);
      continue;
    }
    // From dist/: the skill's cached bundle (./compile.ts), plain JavaScript; else through tsx.
    const compiled = await compiledSkill(file).catch(() => null);
    if (compiled === null) await registerLoaders();
    try {
      const url = `${compiled ?? pathToFileURL(file).href}?sundial-skill=${loadSession}.${++loadCount}`;
      const module = (await nativeImport(url)) as { default?: unknown };
      const problem = shapeProblem(module.default);
      if (problem) {
        problems.push({ file: shown, path: "", message: `skill ${problem}`, skill: name });
        continue;
      }
      const definition = module.default as SkillDefinition;
      if (definition.name !== name) {
        problems.push({
          file: shown,
          path: "name",
          message: `skill is named "${definition.name}" but its file says "${name}"`,
          fix: `rename one so they match`,
          skill: name,
        });
        continue;
      }
      skills.set(name, { name, file, definition, fingerprint });
    } catch (error) {
      const kept = previous?.get(name);
      if (kept) skills.set(name, kept);
      // The whole message: a compile error's first line is only "Transform failed with 1 error:".
      const message = errorMessage(error).trimEnd().split("\n").join("\n    ");
      problems.push({
        file: shown,
        path: "",
        message: `skill failed to load: ${message}${kept ? " (the previous version keeps running)" : ""}`,
        fix: "fix the error, then save; the daemon reloads it",
        skill: name,
      });
    }
  }
  await stopCompiler();
  return { skills, problems };
}
