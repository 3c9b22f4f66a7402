/** @module new — `sundial new <name>`: writes a skill that passes `check` and runs as it is. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { App } from "../app.ts";
import { UsageError } from "../errors.ts";

export function skillTemplate(name: string): string {
  return `import { defineSkill, skip, z } from "sundial";

// A starting point: rename things, change the params, and replace the steps with real work.
// Run it now with:  npx sundial run ${name} --dry-run
export default defineSkill({
  name: "${name}",
  description: "Describe in one line what ${name} does.",
  params: z.object({
    who: z.string().default("world"),
  }),
  timeout: "1m",
  retries: 1,
  async run(ctx) {
    if (ctx.params.who === "nobody") return skip("no one to greet");
    // A step's result is stored in the ledger: a retried or resumed run reuses it instead of redoing it.
    const greeting = await ctx.step("greet", async () => \`Hello, \${ctx.params.who}!\`);
    const seen = (ctx.state.get<number>("times") ?? 0) + 1;
    if (!ctx.dryRun) await ctx.state.set("times", seen);
    ctx.log.info({ seen }, "greeted");
    return { title: "${name}", markdown: \`\${greeting} (run \${seen})\` };
  },
});
`;
}

export async function newCommand(app: App, name: string): Promise<void> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw new UsageError(`"${name}" is not a valid skill name; use lowercase letters, digits and hyphens`);
  const file = join(app.paths.skillsDir, `${name}.ts`);
  if (existsSync(file) || existsSync(join(app.paths.skillsDir, name)))
    throw new UsageError(`skill "${name}" already exists (${relative(app.cwd, file)})`);
  mkdirSync(app.paths.skillsDir, { recursive: true });
  writeFileSync(file, skillTemplate(name));
  process.stdout.write(
    `wrote ${relative(app.cwd, file)}\n` +
      `try it:     npx sundial run ${name} --dry-run\n` +
      `schedule it: add to "jobs" in schedules.json\n` +
      `  { "id": "${name}", "skill": "${name}", "cron": "0 9 * * *", "deliver": [{ "to": "stdout" }] }\n`,
  );
}
