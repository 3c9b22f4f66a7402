#!/usr/bin/env node
/**
 * @module bin/build — `npm run build` (and `prepare`, so `npm ci` runs it, `--omit=dev` too):
 * compiles src/ ahead of time into dist/, so a cold `sundial` command loads plain JavaScript instead
 * of compiling src/ through tsx on every start. Skills stay .ts files compiled when loaded
 * (src/skill/compile.ts).
 *
 * dist/ is a bundle (esbuild, code splitting) in `dist/_bundle/`: every command's module, with the
 * modules it shares, is a few files, not one per source file. Resolving, reading and linking ~200
 * separate ES modules (zod alone is 95) was most of a cold command's start. Two entries:
 * `dist/cli/main.js` (the bin) and `dist/index.js` (the "sundial" skills import), both one line
 * that imports their bundle, so the CLI and every skill share one instance of Sundial. Packages
 * stay imports resolved by Node, except those of many ES-module files (BUNDLED).
 * Each source file's `import.meta.url` is rewritten to the URL its own compiled file would have
 * (dist/<path>.js), so files found beside a module (the dashboard's assets, the skill loader's
 * hooks, copied to dist/ as they are) are found from the bundle too.
 *
 * The new dist/ is written beside the old and swapped in whole, with `.stamp.json` (bin/dist-stamp.js)
 * describing the src/ it was built from, so the bin never runs a half-written or stale build.
 * `dist/_bundle/inputs.json` names the sources each bundle file holds.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { dirname, join, relative, sep } from "node:path";
import { build } from "esbuild";
import { distDir, hashOf, root, sourceFiles, srcDir, statList } from "./dist-stamp.js";

/**
 * Packages of many ES-module files each, inlined with what they import: those every start loads
 * (zod alone is 95 files), and the SDKs a run loads on first use (the Claude SDK is 273 files and
 * brings @opentelemetry/api's 51; Octokit's packages are ~25), each in a chunk only its first use
 * loads. The rest stay imports resolved by Node: native modules, and packages that load files by path.
 */
const BUNDLED = new Set([
  "zod",
  "hono",
  "@hono/node-server",
  "croner",
  "p-limit",
  "@anthropic-ai/sdk",
  "@opentelemetry/api",
  "fast-xml-parser",
  "youtube-transcript",
  "@octokit/rest",
  "@octokit/plugin-retry",
  "@octokit/plugin-throttling",
]);
const packageOf = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
/** CommonJS code an inlined package brings may `require()` Node's own modules: a `require` for the bundle. */
const banner =
  'import { createRequire as __sundialRequire } from "node:module";\nconst require = __sundialRequire(import.meta.url);';

/** What tsx compiles with (tsconfig.json): type-only imports are written as such and removed. */
const tsconfigRaw = { compilerOptions: { verbatimModuleSyntax: true } };

const started = performance.now();
const files = sourceFiles();
// Taken before reading: an edit made during the build changes the times, so the stamp then misses;
// the hash is of the very bytes compiled.
const stats = statList(files);
const sources = files.map((file) => [file, readFileSync(join(srcDir, file))]);
const bytesOf = new Map(sources.map(([file, bytes]) => [join(srcDir, file), bytes]));
const next = `${distDir}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
// Files that are not TypeScript (the dashboard's assets, the skill loader's hooks) are read by path: copied as they are.
for (const [file, bytes] of sources) {
  if (file.endsWith(".ts")) continue;
  mkdirSync(dirname(join(next, file)), { recursive: true });
  writeFileSync(join(next, file), bytes);
}
const bundleDir = join(next, "_bundle");
const result = await build({
  entryPoints: { "cli-main": join(srcDir, "cli", "main.ts"), index: join(srcDir, "index.ts") },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: bundleDir,
  chunkNames: "[name]-[hash]",
  banner: { js: banner },
  metafile: true,
  absWorkingDir: root,
  logLevel: "warning",
  tsconfigRaw,
  plugins: [
    {
      name: "sundial-dist",
      setup(builder) {
        // A package is inlined when it is BUNDLED or imported by inlined package code (its dependencies).
        builder.onResolve({ filter: /^[^./]/ }, (args) =>
          args.kind === "entry-point" ||
          BUNDLED.has(packageOf(args.path)) ||
          (args.importer.includes(`${sep}node_modules${sep}`) && !args.path.startsWith("node:"))
            ? undefined
            : { external: true },
        );
        // src/'s plain JavaScript is loaded from its copy in dist/, as the files that find it by path do.
        builder.onResolve({ filter: /^\.\.?\/.*\.c?js$/ }, (args) => {
          const file = relative(srcDir, join(args.resolveDir, args.path)).split(sep).join("/");
          return file.startsWith("..") ? undefined : { path: `../${file}`, external: true };
        });
        // The very bytes hashed into the stamp, with import.meta.url as this file's own place in dist/.
        builder.onLoad({ filter: /\.ts$/ }, (args) => {
          const bytes = bytesOf.get(args.path);
          if (!bytes) return undefined;
          const file = relative(srcDir, args.path).split(sep).join("/");
          const contents = bytes.toString("utf8");
          if (/\bimport\.meta\.(dirname|filename)\b/.test(contents))
            throw new Error(
              `src/${file}: use import.meta.url (the bundle rewrites it), not import.meta.dirname or .filename`,
            );
          const own = JSON.stringify(`../${file.replace(/\.ts$/, ".js")}`);
          return {
            contents: contents.replace(/\bimport\.meta\.url\b/g, `new URL(${own}, import.meta.url).href`),
            loader: "ts",
          };
        });
      },
    },
  ],
});
// The two entries at the places the bin and the skills import.
writeFileSync(join(next, "index.js"), 'export * from "./_bundle/index.js";\n');
mkdirSync(join(next, "cli"), { recursive: true });
writeFileSync(join(next, "cli", "main.js"), 'import "../_bundle/cli-main.js";\n');
const inputs = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([output, { inputs: used }]) => [
    relative(bundleDir, join(root, output)).split(sep).join("/"),
    Object.keys(used).sort(),
  ]),
);
writeFileSync(join(bundleDir, "inputs.json"), `${JSON.stringify(inputs, null, 1)}\n`);
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
  `sundial: compiled src/ (${files.length} files) to dist/ (${Object.keys(inputs).length} bundle files) in ${Math.round(performance.now() - started)} ms\n`,
);
