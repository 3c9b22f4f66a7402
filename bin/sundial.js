#!/usr/bin/env node
// The `sundial` command. It runs dist/, src/ compiled ahead of time by bin/build.js (`npm ci` runs it
// through `prepare`), when dist/ is the build of src/ as it is now (bin/dist-stamp.js); tsx is then
// registered only if a skill is loaded (src/skill/load.ts). Otherwise (src/ edited since the build,
// or never built) it registers tsx and runs src/ itself, so an edit is never run stale.
// A .js file, not a `#!node --import tsx` line, because tsx 4 on Node 20 misparses such a line in
// files that use dynamic import().
import * as nodeModule from "node:module";
import { distIsFresh } from "./dist-stamp.js";

// Node ≥ 22.1 (the Docker image's) keeps V8's compiled code of every module on disk, so the next
// start skips compiling them again; Node 20 has no such cache, and this does nothing there.
nodeModule.enableCompileCache?.();

if (distIsFresh()) {
  await import("../dist/cli/main.js");
} else {
  const { register } = await import("tsx/esm/api");
  register();
  // Tells src/skill/load.ts that TypeScript loads already (it registers tsx itself otherwise, e.g. under vitest).
  globalThis[Symbol.for("sundial.tsxRegistered")] = true;
  await import("../src/cli/main.ts");
}
