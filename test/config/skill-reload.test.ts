/** Reloading skills imports again only the skills whose files changed (Node never frees a module graph). */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadSkills } from "../../src/skill/load.ts";

const root = join(import.meta.dirname, "..", "..", ".tmp");
let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const skill = (name: string, text: string) => `import { defineSkill, z } from "sundial";
export default defineSkill({ name: "${name}", description: "${text}", params: z.object({}), run: () => ({ title: "t", markdown: "${text}" }) });
`;

describe("skill reload", () => {
  it("keeps unchanged skills and imports changed ones again", async () => {
    mkdirSync(root, { recursive: true });
    dir = mkdtempSync(join(root, "skills-"));
    writeFileSync(join(dir, "alpha.ts"), skill("alpha", "one"));
    mkdirSync(join(dir, "beta"));
    writeFileSync(join(dir, "beta", "index.ts"), skill("beta", "one"));
    const first = await loadSkills(dir);
    const second = await loadSkills(dir, first.skills);
    expect(second.skills.get("alpha")?.definition).toBe(first.skills.get("alpha")?.definition);
    expect(second.skills.get("beta")?.definition).toBe(first.skills.get("beta")?.definition);

    writeFileSync(join(dir, "beta", "index.ts"), skill("beta", "two"));
    utimesSync(join(dir, "beta", "index.ts"), new Date(), new Date(Date.now() + 5000));
    const third = await loadSkills(dir, second.skills);
    expect(third.skills.get("alpha")?.definition).toBe(first.skills.get("alpha")?.definition);
    expect(third.skills.get("beta")?.definition.description).toBe("two");
  });
});
