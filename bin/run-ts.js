#!/usr/bin/env node
// Runs one TypeScript file with tsx registered: `node bin/run-ts.js <file.ts> [args…]`.
import { register } from "tsx/esm/api";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

register();
// Tells src/skill/load.ts that TypeScript loads already, so it does not register tsx a second time.
globalThis[Symbol.for("sundial.tsxRegistered")] = true;
const file = process.argv[2];
if (!file) {
  console.error("usage: node bin/run-ts.js <file.ts> [args…]");
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(resolve(file)).href);
