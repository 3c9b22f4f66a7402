/**
 * @module skills.test — `loadSkills`: a skill file that cannot be used becomes one problem naming
 * the file, and the good skills beside it still load.
 */
import { afterAll, beforeAll, describe, it, expect } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSkills, type SkillSet } from "../../src/skill/load.ts";
import { formatProblem } from "../../src/errors.ts";

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
let dir = "";
let loaded: SkillSet;

const good = (name: string) => `import { defineSkill, z } from "sundial";
export default defineSkill({ name: "${name}", description: "ok", params: z.object({}), run: () => ({ title: "t", markdown: "m" }) });
`;

const files: Record<string, string> = {
  "hello.ts": good("hello"),
  "nested/index.ts": good("nested"),
  "throws.ts": `import { defineSkill, z } from "sundial";\nthrow new Error("cannot reach the config server");\nexport default defineSkill({ name: "throws", description: "", params: z.object({}), run: () => ({ title: "", markdown: "" }) });\n`,
  "no-default.ts": `import { defineSkill, z } from "sundial";\nexport const skill = defineSkill({ name: "no-default", description: "", params: z.object({}), run: () => ({ title: "", markdown: "" }) });\n`,
  "mismatch.ts": good("hello-there"),
  "no-params.ts": `export default { name: "no-params", description: "d", params: {}, run: () => ({ title: "", markdown: "" }) };\n`,
  "Bad_Name.ts": good("Bad_Name"),
  "_helper.ts": `export const helper = 1;\n`,
  "hello.test.ts": `throw new Error("tests are not skills");\n`,
};

beforeAll(async () => {
  mkdirSync(join(repoRoot, ".tmp"), { recursive: true });
  dir = mkdtempSync(join(repoRoot, ".tmp", "skills-"));
  for (const [name, source] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), source);
  }
  loaded = await loadSkills(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The problem lines about one file. */
const linesFor = (file: string) =>
  loaded.problems.filter((p) => p.file === relative(process.cwd(), join(dir, file))).map(formatProblem);

describe("loadSkills", () => {
  it("loads good skills, a <name>.ts and a <name>/index.ts, and ignores helpers and tests", () => {
    expect([...loaded.skills.keys()].sort()).toEqual(["hello", "nested"]);
    expect(loaded.skills.get("nested")?.file).toBe(join(dir, "nested", "index.ts"));
    expect(linesFor("_helper.ts")).toEqual([]);
    expect(linesFor("hello.test.ts")).toEqual([]);
  });

  it("reports a skill that throws at import, with the error", () => {
    expect(linesFor("throws.ts")).toEqual([
      expect.stringMatching(/^.*skills-\w+\/throws\.ts: skill failed to load: cannot reach the config server — /),
    ]);
  });

  it("reports a skill without a default export and says what to write", () => {
    expect(linesFor("no-default.ts")).toEqual([
      expect.stringContaining("no-default.ts: skill has no default export; write `export default defineSkill({ … })`"),
    ]);
  });

  it("reports a skill whose name differs from its file name", () => {
    expect(linesFor("mismatch.ts")).toEqual([
      expect.stringContaining('mismatch.ts name: skill is named "hello-there" but its file says "mismatch"'),
    ]);
  });

  it("reports params that are not a zod schema, and a file name that is not a valid skill name", () => {
    expect(linesFor("no-params.ts")).toEqual([expect.stringContaining("its `params` is not a zod schema")]);
    expect(linesFor("Bad_Name.ts")).toEqual([expect.stringContaining('"Bad_Name" is not a valid skill name')]);
  });

  it("reports each broken file exactly once and nothing else", () => {
    expect(loaded.problems).toHaveLength(5);
  });

  it("keeps the previous version of a skill whose new version fails to load, and still reports it", async () => {
    const reloadDir = mkdtempSync(join(dir, "reload-"));
    writeFileSync(join(reloadDir, "hello.ts"), good("hello"));
    const first = await loadSkills(reloadDir);
    writeFileSync(join(reloadDir, "hello.ts"), `${good("hello")}\nthrow new Error("half-saved edit");\n`);
    const second = await loadSkills(reloadDir, first.skills);
    expect(second.skills.get("hello")).toBe(first.skills.get("hello"));
    expect(second.problems.map(formatProblem)).toEqual([
      expect.stringContaining("half-saved edit (the previous version keeps running)"),
    ]);
  });
});
