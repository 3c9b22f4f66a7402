/**
 * @module dist.test — src/ compiled ahead of time (bin/build.js → dist/): the bin runs dist/ only
 * while it is the build of src/ as it is, and a skill run from dist/ gets dist/'s "sundial", the
 * daemon's own instance. Works on a copy of the repository (bin, src, package.json; node_modules
 * linked) in a temporary folder, so it may edit src/ and dist/ freely.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const MARK = "ran from dist";

/** Names the file of the "sundial" it imported: the top frame of an error thrown inside it (a URL, or a path under tsx). */
const probe = `import { defineSkill, parseDuration, z } from "sundial";
function where() {
  try {
    parseDuration("never");
  } catch (error) {
    return /\\((?:file:\\/\\/)?(\\/[^)]*?):\\d+:\\d+\\)/.exec(error.stack)[1];
  }
}
export default defineSkill({
  name: "probe",
  description: "says which Sundial it imported",
  params: z.object({}),
  run: () => ({ title: "probe", markdown: "sundial=" + where() }),
});
`;

function node(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      args,
      { cwd, env: { ...process.env, NODE_OPTIONS: "", LOG_LEVEL: "warn", SUNDIAL_DATA_DIR: join(cwd, "data") } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    ),
  );
}

describe("dist/, src/ compiled ahead of time", () => {
  let root = "";
  let ws = "";
  const sundial = (args: string[]) => node([join(root, "bin", "sundial.js"), ...args], ws);
  /** The build's record of the sources each file of dist/_bundle/ holds. */
  const bundleInputs = () =>
    JSON.parse(readFileSync(join(root, "dist", "_bundle", "inputs.json"), "utf8")) as Record<string, string[]>;
  /** The file of dist/_bundle/ that holds `source`: the one the CLI and every skill share. */
  const bundleFileHolding = (source: string) => {
    const [file] = Object.entries(bundleInputs()).find(([, inputs]) => inputs.includes(source)) ?? [];
    if (!file) throw new Error(`no file of dist/_bundle/ holds ${source}`);
    return join(root, "dist", "_bundle", file);
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "sundial-dist-"));
    for (const part of ["bin", "src", "package.json"])
      cpSync(join(repoRoot, part), join(root, part), { recursive: true });
    symlinkSync(join(repoRoot, "node_modules"), join(root, "node_modules"));
    const built = await node([join(root, "bin", "build.js")], root);
    expect(built.code, built.stderr).toBe(0);
    // A line only the build has, to tell which of the two ran.
    appendFileSync(join(root, "dist", "cli", "main.js"), `\nprocess.stderr.write(${JSON.stringify(`${MARK}\n`)});\n`);
    ws = join(root, "ws");
    mkdirSync(join(ws, "skills"), { recursive: true });
    writeFileSync(join(ws, "skills", "probe.ts"), probe);
    writeFileSync(join(ws, "schedules.json"), JSON.stringify({ jobs: [] }));
  }, 120_000);

  afterAll(() => {
    if (!root) return;
    // The probe's bundle sits in the repository's node_modules (linked): not left behind there.
    const cache = join(repoRoot, "node_modules", ".cache", "sundial-skills");
    const key = createHash("sha256")
      .update(join(ws, "skills", "probe.ts"))
      .digest("hex")
      .slice(0, 32);
    for (const name of existsSync(cache) ? readdirSync(cache) : [])
      if (name.startsWith(key)) rmSync(join(cache, name), { force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it("runs dist/ while it is src/'s build, and a skill's \"sundial\" is dist/'s bundle, the CLI's own", async () => {
    const result = await sundial(["run", "probe", "--dry-run"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(MARK);
    expect(result.stdout).toContain(`sundial=${bundleFileHolding("src/util/duration.ts")}`);
  }, 60_000);

  it("loads for `list` and `runs` none of the modules they do not use: no tsx, HTTP server, Discord, PostgreSQL, metrics or SDK; for `runs` no configuration, skills, zod or logger either", async () => {
    // A resolve hook (on Node's loader thread) writes down every module the command imports.
    const log = join(root, "loaded.txt");
    const hook = `data:text/javascript,${encodeURIComponent(
      `import { appendFileSync } from "node:fs"; export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }`,
    )}`;
    const register = `data:text/javascript,${encodeURIComponent(`import { register } from "node:module"; register(${JSON.stringify(hook)});`)}`;
    const readerUnused = ["zod", "pino", "croner", "yaml", "marked"];
    for (const [command, own, unusedHere] of [
      [["list", "--json"], "src/cli/list.ts", []],
      [["runs", "--json"], "src/cli/runs.ts", readerUnused],
    ] as const) {
      writeFileSync(log, "");
      const result = await node([`--import=${register}`, join(root, "bin", "sundial.js"), ...command], ws);
      expect(result.code, result.stderr).toBe(0);
      // Every file imported, and for a file of the bundle the sources (src/, packages) it holds.
      const loaded = readFileSync(log, "utf8")
        .split("\n")
        .flatMap((url) => {
          const file = /\/dist\/_bundle\/([^/?]+)$/.exec(url)?.[1];
          return file ? [url, ...(bundleInputs()[file] ?? [])] : [url];
        })
        .join("\n");
      expect(loaded, "the log saw the command's own modules").toContain(own);
      for (const unused of [
        "tsx",
        "hono",
        "@hono",
        "discord.js",
        "@discordjs",
        "pg",
        "prom-client",
        "@octokit",
        "@anthropic-ai",
        ...unusedHere,
      ])
        expect(loaded, `${command[0]} loaded ${unused}`).not.toMatch(new RegExp(`node_modules/${unused}/`));
      if (command[0] === "runs")
        for (const app of ["src/app.ts", "src/config/load.ts", "src/config/schema.ts", "src/skill/"])
          expect(loaded, `runs loaded ${app}`).not.toContain(app);
    }
  }, 60_000);

  it("imports a skill's cached bundle while its files are unchanged, and its new version once one is edited", async () => {
    const skill = join(ws, "skills", "probe.ts");
    // Where src/skill/compile.ts keeps it (node_modules is the repository's, linked).
    const cache = join(root, "node_modules", ".cache", "sundial-skills");
    const entry = join(cache, `${createHash("sha256").update(skill).digest("hex").slice(0, 32)}.json`);
    const bundle = () => (JSON.parse(readFileSync(entry, "utf8")) as { bundle: string }).bundle;
    const first = bundle();
    const madeAt = statSync(join(cache, first)).mtimeMs;
    const again = await sundial(["run", "probe", "--dry-run"]);
    expect(again.stdout).toContain("sundial=");
    expect([bundle(), statSync(join(cache, first)).mtimeMs]).toEqual([first, madeAt]);
    writeFileSync(skill, readFileSync(skill, "utf8").replace('"sundial=" + where()', '"edited, " + where()'));
    const edited = await sundial(["run", "probe", "--dry-run"]);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain(`edited, ${bundleFileHolding("src/util/duration.ts")}`);
    expect(bundle()).not.toBe(first);
    expect(existsSync(join(cache, first)), "the skill's earlier bundle is removed").toBe(false);
  }, 60_000);

  it('runs a skill that imports a file of src/ other than "sundial" (not in the bundle) through tsx', async () => {
    writeFileSync(
      join(ws, "skills", "deep.ts"),
      `import { defineSkill, z } from "sundial";
import { slugify } from "../../src/util/slug.ts";
export default defineSkill({
  name: "deep",
  description: "imports a file of src/ directly",
  params: z.object({}),
  run: () => ({ title: "deep", markdown: "slug=" + slugify("Hello, Deep World") }),
});
`,
    );
    try {
      const result = await sundial(["run", "deep", "--dry-run"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(MARK);
      expect(result.stdout).toContain("slug=hello-deep-world");
    } finally {
      rmSync(join(ws, "skills", "deep.ts"), { force: true });
    }
  }, 60_000);

  it("still runs dist/ when src/ was copied with new times but the same contents (a fresh clone, an image)", async () => {
    const file = join(root, "src", "errors.ts");
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    const result = await sundial(["runs", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(MARK);
  }, 60_000);

  it("runs src/ through tsx once src/ is edited after the build, so an edit is never run stale", async () => {
    const file = join(root, "src", "errors.ts");
    writeFileSync(file, `${readFileSync(file, "utf8")}\n// edited\n`);
    const result = await sundial(["run", "probe", "--dry-run"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(MARK);
    expect(result.stdout).toContain(`edited, ${join(root, "src", "util", "duration.ts")}`);
  }, 60_000);
});
