/**
 * @module skill/compile — skills for a Sundial that runs from dist/ (src/ compiled ahead of time):
 * each skill is bundled by esbuild (its own files inlined; packages left to Node; `"sundial"` and
 * Sundial's own files pointed at dist/, the daemon's instance) into a cache file under
 * `node_modules/.cache/sundial-skills/`, and imported as plain JavaScript. A later start whose skill
 * files are unchanged (path, size, modification time of every file the bundle read) imports the
 * cached file: no compiler, no tsx, no loader hooks, which cost a cold command more than the rest of
 * its start. `import.meta.url`, `.dirname` and `.filename` keep naming each source file, so a skill
 * still finds the files beside it (prompts/).
 *
 * `null` (the caller then loads the skill through tsx, as from src/) when not running from dist/,
 * when the cache cannot be written, or when the skill does not compile: tsx reports the error then,
 * in the words `sundial check` has always shown.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The folder this module runs from: src/ or dist/. */
const OWN_DIR = fileURLToPath(new URL("../", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FROM_DIST = OWN_DIR.endsWith(`${sep}dist${sep}`);
const CACHE = join(ROOT, "node_modules", ".cache", "sundial-skills");
const SUNDIAL_SOURCES = join(ROOT, "src") + sep;
const LOADERS: Record<string, "ts" | "tsx" | "js" | "json"> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".json": "json",
};

interface CacheEntry {
  /** Every file the bundle read → "size:mtimeMs" when it was read. */
  inputs: Record<string, string>;
  bundle: string;
}

const statOf = (path: string): string => {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? `${stat.size}:${stat.mtimeMs}` : "missing";
};

/** True when a compiler ran in this process since the last `stopCompiler()`. */
let compiled = false;

/** The URL of `file`'s bundle (cached or made now), or null: load it through tsx instead. */
export async function compiledSkill(file: string): Promise<string | null> {
  if (!FROM_DIST) return null;
  const key = createHash("sha256").update(file).digest("hex").slice(0, 32);
  const entryFile = join(CACHE, `${key}.json`);
  let earlier: string | undefined;
  try {
    const entry = JSON.parse(readFileSync(entryFile, "utf8")) as CacheEntry;
    earlier = entry.bundle;
    const bundle = join(CACHE, entry.bundle);
    if (Object.entries(entry.inputs).every(([path, stat]) => statOf(path) === stat) && statOf(bundle) !== "missing")
      return pathToFileURL(bundle).href;
  } catch {
    // Not cached yet, or unreadable: compile.
  }
  try {
    mkdirSync(CACHE, { recursive: true });
  } catch {
    return null;
  }
  const esbuild = await import("esbuild");
  compiled = true;
  const inputs: Record<string, string> = {};
  let code: string;
  try {
    const result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "silent",
      plugins: [
        {
          name: "sundial-skill",
          setup(build) {
            build.onResolve({ filter: /^sundial$/ }, () => ({
              path: new URL("../index.js", import.meta.url).href,
              external: true,
            }));
            // Packages (and node: builtins) stay imports, resolved by Node as for any module.
            build.onResolve({ filter: /^[^./]/ }, (args) =>
              args.kind === "entry-point" ? undefined : { external: true },
            );
            // Sundial's own files: the instance the process runs (dist/), never a copy in the bundle.
            // dist/ is a bundle (bin/build.js): its entry "sundial" is the one public way in, and a
            // skill that imports another of src/'s files is loaded through tsx instead (null).
            build.onResolve({ filter: /^\.\.?\// }, (args) => {
              const path = resolve(args.resolveDir, args.path);
              if (path.startsWith(SUNDIAL_SOURCES)) {
                const twin = join(OWN_DIR, path.slice(SUNDIAL_SOURCES.length)).replace(/\.ts$/, ".js");
                if (path !== join(SUNDIAL_SOURCES, "index.ts") && statOf(twin) === "missing")
                  throw new Error(`${path} is not in dist/: load through tsx`);
                return { path: pathToFileURL(twin).href, external: true };
              }
              if (path.startsWith(OWN_DIR)) return { path: pathToFileURL(path).href, external: true };
              return undefined;
            });
            build.onLoad({ filter: /.*/ }, (args) => {
              const loader = LOADERS[extname(args.path)];
              if (!loader) return undefined;
              // Before reading: an edit made after this is seen on the next load.
              inputs[args.path] = statOf(args.path);
              let contents = readFileSync(args.path, "utf8");
              if (loader !== "json") {
                const url = pathToFileURL(args.path).href;
                contents = contents
                  .replace(/\bimport\.meta\.url\b/g, JSON.stringify(url))
                  .replace(
                    /\bimport\.meta\.dirname\b/g,
                    JSON.stringify(fileURLToPath(new URL(".", url)).replace(/[\\/]$/, "")),
                  )
                  .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
              }
              return { contents, loader };
            });
          },
        },
      ],
    });
    code = result.outputFiles[0]?.text ?? "";
  } catch {
    return null;
  }
  const bundle = `${key}-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`;
  try {
    writeAtomically(join(CACHE, bundle), code);
    writeAtomically(entryFile, JSON.stringify({ inputs, bundle } satisfies CacheEntry));
  } catch {
    return null;
  }
  // The skill's earlier bundle is of no further use (a process that imported it keeps it in memory).
  if (earlier && earlier !== bundle) rmSync(join(CACHE, earlier), { force: true });
  return pathToFileURL(join(CACHE, bundle)).href;
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

/** Stops esbuild's service if this process started it (it would otherwise ping every second, keeping an idle daemon awake). */
export async function stopCompiler(): Promise<void> {
  if (!compiled) return;
  compiled = false;
  await (await import("esbuild")).stop();
}
