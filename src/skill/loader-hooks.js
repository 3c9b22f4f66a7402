/**
 * @module skill/loader-hooks — Node module-customization hooks for skill loading, registered once
 * by `./load.ts` after tsx, so they wrap tsx's hooks. Where tsx runs its hooks in-thread
 * (`module.registerHooks`, Node ≥ 22.22) these run there too (`resolveSync`, `loadSync`);
 * otherwise (Node 20) on Node's loader thread (`module.register`: `resolve`, `load`).
 *
 * 1. A skill entry imported as `file:…?sundial-skill=<load id>` passes that query on to the skill's
 *    own files it imports (helpers beside it, JSON…), so each load of an edited skill gets fresh
 *    instances of exactly those files. Packages (`node_modules`) and Sundial itself (`"sundial"` →
 *    `src/`) resolve as usual, to the one instance the process already has: zod and Sundial's own
 *    modules are not loaded again for every skill load, and a reload leaks only the skill's files
 *    (Node never frees a module).
 * 2. When Sundial runs from `dist/` (src/ compiled ahead of time, bin/build.js), a skill's import of
 *    `"sundial"` (package.json exports it as `src/index.ts`) resolves to `dist/index.js`: the very
 *    instance the daemon runs, not a second copy compiled by tsx.
 * 3. Once no module has been loaded for a while, stops tsx's esbuild service. esbuild's service
 *    pings its host every second for as long as it lives, which would wake an idle daemon forever;
 *    esbuild starts it again by itself on the next transform (a reload).
 *
 * Plain JavaScript: Node loads it without tsx (under vitest nothing compiles TypeScript for it).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { clearTimeout, setTimeout } from "node:timers";

const PARAM = "sundial-skill";
/** `src/` (or `dist/`) of this Sundial, the one this file is in: its modules are shared, never versioned per skill load. */
const SUNDIAL_SRC = new URL("../", import.meta.url).href;
/** The sources, when this file runs from their build in dist/ (else null): their URLs are sent to dist/. */
const COMPILED_FROM = SUNDIAL_SRC.endsWith("/dist/") ? new URL("../src/", SUNDIAL_SRC).href : null;
const ESBUILD_IDLE_MS = 5000;

/** The load id in a module URL's query, or null. */
function loadIdOf(url) {
  if (!url || !url.startsWith("file:") || !url.includes(`${PARAM}=`)) return null;
  return new URL(url).searchParams.get(PARAM);
}

/** Files that every skill shares: packages and Sundial's own sources. */
function isShared(url) {
  return !url.startsWith("file:") || url.includes("/node_modules/") || url.startsWith(SUNDIAL_SRC);
}

/** `resolved` with the load id of its importer, if the importer is a skill's file and it is one too. */
function versioned(resolved, parentURL) {
  const loadId = loadIdOf(parentURL);
  if (loadId === null || isShared(resolved.url) || loadIdOf(resolved.url) !== null) return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set(PARAM, loadId);
  return { ...resolved, url: url.href };
}

/**
 * `resolved` in dist/ when it is a file of src/ that dist/ has and Sundial runs from dist/. dist/ is
 * a bundle (bin/build.js): it has `index.js` ("sundial") and src/'s plain JavaScript; any other file
 * of src/ a skill imports stays there, compiled by tsx.
 */
function compiled(resolved) {
  if (COMPILED_FROM === null || !resolved.url.startsWith(COMPILED_FROM)) return resolved;
  const path = resolved.url.slice(COMPILED_FROM.length).replace(/\.ts$/, ".js");
  const url = new URL(path, SUNDIAL_SRC);
  if (!existsSync(url)) return resolved;
  return { ...resolved, url: url.href, format: path.endsWith(".cjs") ? "commonjs" : "module" };
}

export async function resolve(specifier, context, nextResolve) {
  return versioned(compiled(await nextResolve(specifier, context)), context.parentURL);
}

export function resolveSync(specifier, context, nextResolve) {
  return versioned(compiled(nextResolve(specifier, context)), context.parentURL);
}

// ─── esbuild's service: stopped when loading goes quiet ──────────────────────────────────────────

let loading = 0;
let quietTimer;

/** The esbuild module tsx itself uses (resolved from tsx's directory), or null. */
function tsxEsbuild() {
  try {
    // Not import.meta.resolve: Node 20 does not offer it to modules on the loader thread.
    const tsxPackage = createRequire(import.meta.url).resolve("tsx/package.json");
    return createRequire(tsxPackage)("esbuild");
  } catch {
    return null;
  }
}

function loadStarted() {
  loading++;
  clearTimeout(quietTimer);
}

function loadEnded() {
  loading--;
  if (loading > 0) return;
  quietTimer = setTimeout(() => {
    if (loading > 0) return;
    try {
      // Its long-lived service, and the worker thread that serves tsx's synchronous transforms.
      Promise.resolve(tsxEsbuild()?.stop?.()).catch(() => undefined);
    } catch {
      // Nothing to stop, or an esbuild without `stop`: the pings simply go on.
    }
  }, ESBUILD_IDLE_MS);
  // A pending stop must not keep the thread (or the process) alive.
  quietTimer.unref();
}

export async function load(url, context, nextLoad) {
  loadStarted();
  try {
    return await nextLoad(url, context);
  } finally {
    loadEnded();
  }
}

export function loadSync(url, context, nextLoad) {
  loadStarted();
  try {
    return nextLoad(url, context);
  } finally {
    loadEnded();
  }
}
