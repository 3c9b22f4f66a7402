/** @module check — `sundial check`: every configuration problem, one line each; exit 2 if any. */
import type { App } from "../app.ts";
import { formatProblem } from "../errors.ts";

export async function checkCommand(app: App): Promise<void> {
  const { configuration, skills } = await app.load();
  for (const problem of configuration.problems) process.stderr.write(`${formatProblem(problem)}\n`);
  const enabled = configuration.jobs.filter((job) => job.enabled).length;
  if (configuration.problems.length) {
    process.stderr.write(`${configuration.problems.length} problem(s) found\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`ok: ${configuration.jobs.length} job(s), ${enabled} enabled; ${skills.size} skill(s): ${[...skills.keys()].join(", ")}\n`);
}
