/**
 * @module bin/dist-stamp — is `dist/` (src/ compiled ahead of time by bin/build.js) the build of the
 * src/ beside it? The build writes `dist/.stamp.json`: every src/ file's path, size and modification
 * time, and a hash of their contents. The bin compares the stat list first (a few ms); only when it
 * differs (a fresh clone, a copy that changed the times) does it hash the contents, so an edited,
 * added or removed file of src/ always sends the bin back to src/ through tsx, never to stale code.
 * Plain JavaScript: it runs before anything can compile TypeScript.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../", import.meta.url));
export const srcDir = join(root, "src");
export const distDir = join(root, "dist");
export const stampFile = join(distDir, ".stamp.json");

/** src/'s files, sorted, as paths relative to src/ with "/" separators. */
export function sourceFiles() {
  return readdirSync(srcDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) =>
      relative(srcDir, join(entry.parentPath ?? entry.path, entry.name))
        .split(sep)
        .join("/"),
    )
    .sort();
}

/** Path, size and modification time of each file: cheap, and changed by any edit. */
export function statList(files) {
  return files
    .map((file) => {
      const stat = statSync(join(srcDir, file));
      return `${file}:${stat.size}:${stat.mtimeMs}`;
    })
    .join("|");
}

/** The paths and contents of the files (`[path, bytes]` pairs): what the build compiled, whatever the times say. */
export function hashOf(entries) {
  // Required here, not imported: loading node:crypto costs a cold start more than the stat list.
  const hash = createRequire(import.meta.url)("node:crypto").createHash("sha256");
  for (const [file, bytes] of entries) hash.update(`${file}\0`).update(bytes).update("\0");
  return hash.digest("hex");
}

export const contentHash = (files) => hashOf(files.map((file) => [file, readFileSync(join(srcDir, file))]));

/** True when dist/ holds the build of src/ as it is now. */
export function distIsFresh() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    return false;
  }
  try {
    const files = sourceFiles();
    return statList(files) === stamp.stats || contentHash(files) === stamp.hash;
  } catch {
    return false;
  }
}
