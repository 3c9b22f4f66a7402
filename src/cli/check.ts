/** @module check — `sundial check`: every configuration problem, one line each; exit 2 if any. */
import type { App } from "../app.ts";
import { formatProblem } from "../errors.ts";
import { discordCommandProblems } from "../discord-commands/settings.ts";

export async function checkCommand(app: App): Promise<void> {
  const { configuration, skills } = await app.load();
  for (const problem of configuration.problems) process.stderr.write(`${formatProblem(problem)}\n`);
  // The Discord command variables are not part of schedules.json, but a mistake there is as real.
  const envProblems = discordCommandProblems(app.env);
  for (const problem of envProblems) process.stderr.write(`environment: ${problem}\n`);
  const enabled = configuration.jobs.filter((job) => job.enabled).length;
  const count = configuration.problems.length + envProblems.length;
  if (count) {
    process.stderr.write(`${count} problem(s) found\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(
    `ok: ${configuration.jobs.length} job(s), ${enabled} enabled; ${skills.size} skill(s): ${[...skills.keys()].join(", ")}\n`,
  );
}
