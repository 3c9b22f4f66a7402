#!/usr/bin/env node
/**
 * @module bin/build — `npm run build` (and `prepare`, so `npm ci` runs it, `--omit=dev` too):
 * compiles src/ to dist/ ahead of time, one .js per .ts (ESM, not bundled, relative `.ts`
 * specifiers rewritten to `.js`), and copies its other files (plain .js, .cjs, the dashboard's
 * assets) as they are. A cold `sundial` command then loads plain JavaScript instead of compiling
 * src/ through tsx on every start. Skills stay .ts files compiled when loaded (src/skill/load.ts).
 *
 * The new dist/ is written beside the old and swapped in whole, with `.stamp.json` (bin/dist-stamp.js)
 * describing the src/ it was built from, so the bin never runs a half-written or stale build.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { dirname, join } from "node:path";
import { transform } from "esbuild";
import { distDir, hashOf, sourceFiles, srcDir, statList } from "./dist-stamp.js";

/** `from "./x.ts"`, `import "./x.ts"`, `import("./x.ts")`, `export … from "../x.ts"`: relative specifiers only. */
const TS_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"'\n]*)\.ts\2/g;

/** What tsx compiles with (tsconfig.json): type-only imports are written as such and removed. */
const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true } };

const started = performance.now();
const files = sourceFiles();
// Taken before reading: an edit made during the build changes the times, so the stamp then misses;
// the hash is of the very bytes compiled.
const stats = statList(files);
const sources = files.map((file) => [file, readFileSync(join(srcDir, file))]);
const next = `${distDir}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
await Promise.all(
  sources.map(async ([file, source]) => {
    if (file.endsWith(".d.ts")) return;
    let out = file;
    let code = source;
    if (file.endsWith(".ts")) {
      out = file.replace(/\.ts$/, ".js");
      const result = await transform(source.toString("utf8"), {
        loader: "ts",
        format: "esm",
        target: "node20",
        sourcefile: join(srcDir, file),
        tsconfigRaw,
      });
      code = result.code.replace(TS_SPECIFIER, "$1$2$3.js$2");
    }
    mkdirSync(dirname(join(next, out)), { recursive: true });
    writeFileSync(join(next, out), code);
  }),
);
writeFileSync(join(next, ".stamp.json"), `${JSON.stringify({ stats, hash: hashOf(sources) })}\n`);
const old = `${distDir}.old-${process.pid}`;
try {
  renameSync(distDir, old);
} catch {
  // No dist/ yet.
}
renameSync(next, distDir);
rmSync(old, { recursive: true, force: true });
process.stdout.write(
  `sundial: compiled src/ (${files.length} files) to dist/ in ${Math.round(performance.now() - started)} ms\n`,
);
