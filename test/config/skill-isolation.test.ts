/**
 * What a skill load shares and what it gets fresh (src/skill/loader-hooks.js): the skill's own
 * files are imported again on each load (an edited helper takes effect), while zod and "sundial"
 * are the process's single instances (no package is loaded again per skill load); and tsx's
 * esbuild service does not outlive the loading.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { loadSkills, type LoadedSkill } from "../../src/skill/load.ts";

const root = join(import.meta.dirname, "..", "..", ".tmp");
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function workspace(files: Record<string, string>): string {
  mkdirSync(root, { recursive: true });
  dir = mkdtempSync(join(root, "skill-isolation-"));
  for (const [name, text] of Object.entries(files)) write(name, text);
  return dir;
}

/** Writes a file with a modification time in the future, so the fingerprint surely changes. */
function write(name: string, text: string): void {
  mkdirSync(join(dir, name, ".."), { recursive: true });
  writeFileSync(join(dir, name), text);
  const later = new Date(Date.now() + 5000 + Math.random() * 5000);
  utimesSync(join(dir, name), later, later);
}

/** A skill whose description comes from a helper beside it and whose run throws sundial's NonRetryableError. */
const skillUsingHelper = (name: string) => `import { defineSkill, NonRetryableError, z } from "sundial";
import { text } from "./text.ts";
export default defineSkill({ name: "${name}", description: text, params: z.object({}), run: () => { throw new NonRetryableError("no"); } });
`;

/** The error class the skill's run throws (the `NonRetryableError` its "sundial" import gave it). */
async function errorClassOf(skill: LoadedSkill | undefined): Promise<unknown> {
  try {
    await skill?.definition.run({} as never);
  } catch (error) {
    return (error as object).constructor;
  }
  throw new Error("the skill did not throw");
}

describe("skill loading", () => {
  it("imports an edited helper again on reload, and only the skill's own files", async () => {
    workspace({
      "alpha/index.ts": skillUsingHelper("alpha"),
      "alpha/text.ts": `export const text = "one";\n`,
      "beta/index.ts": skillUsingHelper("beta"),
      "beta/text.ts": `export const text = "beta";\n`,
    });
    const first = await loadSkills(dir);
    expect(first.problems).toEqual([]);
    expect(first.skills.get("alpha")?.definition.description).toBe("one");

    write("alpha/text.ts", `export const text = "two";\n`);
    const second = await loadSkills(dir, first.skills);
    expect(second.problems).toEqual([]);
    expect(second.skills.get("alpha")?.definition.description).toBe("two");
    expect(second.skills.get("beta")).toBe(first.skills.get("beta"));

    // zod and "sundial" are shared: by both skills, and by the old and new version of alpha.
    const paramsClass = (skill: LoadedSkill | undefined) => Object.getPrototypeOf(skill?.definition.params) as unknown;
    expect(paramsClass(second.skills.get("alpha"))).toBe(paramsClass(first.skills.get("alpha")));
    expect(paramsClass(second.skills.get("alpha"))).toBe(paramsClass(second.skills.get("beta")));
    expect(await errorClassOf(second.skills.get("alpha"))).toBe(await errorClassOf(first.skills.get("alpha")));
    expect(await errorClassOf(second.skills.get("alpha"))).toBe(await errorClassOf(second.skills.get("beta")));
  });

  it("loads a fixed skill after a failed load, and keeps the previous version meanwhile", async () => {
    workspace({ "gamma/index.ts": skillUsingHelper("gamma"), "gamma/text.ts": `export const text = "one";\n` });
    const first = await loadSkills(dir);
    write("gamma/text.ts", `export const text: string = (() => {\n  throw new Error("half-saved helper");\n})();\n`);
    const broken = await loadSkills(dir, first.skills);
    expect(broken.skills.get("gamma")).toBe(first.skills.get("gamma"));
    expect(broken.problems.map((problem) => problem.message)).toEqual([expect.stringContaining("half-saved helper")]);

    write("gamma/text.ts", `export const text = "fixed";\n`);
    const fixed = await loadSkills(dir, broken.skills);
    expect(fixed.problems).toEqual([]);
    expect(fixed.skills.get("gamma")?.definition.description).toBe("fixed");
  });

  it.runIf(process.platform === "linux")(
    "stops tsx's esbuild service a few seconds after the last load",
    { timeout: 30_000 },
    async () => {
      // A new file in a new directory: tsx's transform cache cannot have it, so esbuild runs.
      workspace({
        "delta.ts": skillUsingHelper("delta").replace(
          `import { text } from "./text.ts";\n`,
          `const text = "${Math.random()}";\n`,
        ),
      });
      const loaded = await loadSkills(dir);
      expect(loaded.problems).toEqual([]);
      expect(esbuildServices().length).toBeGreaterThan(0);
      const deadline = Date.now() + 15_000;
      while (esbuildServices().length > 0 && Date.now() < deadline) await sleep(250);
      expect(esbuildServices()).toEqual([]);
    },
  );
});

/** Running esbuild services started by this process. */
function esbuildServices(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (parent === process.pid && command.includes("esbuild") && command.includes("--service")) found.push(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
