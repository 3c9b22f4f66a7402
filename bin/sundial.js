#!/usr/bin/env node
// The `sundial` command: registers tsx so TypeScript (ours and the user's skills) runs without a
// build step, then hands over to the CLI. A .js file, not a `#!node --import tsx` line, because
// tsx 4 on Node 20 misparses such a line in files that use dynamic import().
import { register } from "tsx/esm/api";

register();
// Tells src/skill/load.ts that TypeScript loads already (it registers tsx itself otherwise, e.g. under vitest).
globalThis[Symbol.for("sundial.tsxRegistered")] = true;
await import("../src/cli/main.ts");
