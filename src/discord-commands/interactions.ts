/**
 * @module discord-commands/interactions — answers `/sundial` subcommands, job-id autocomplete and
 * alert buttons by calling the same `Controls` as the API and the CLI. Reads answer anyone who can
 * use the command; changes only operators (a user id or one of their role ids in the list).
 */
import {
  GuildMember,
  MessageFlags,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type InteractionReplyOptions,
} from "discord.js";
import type { Logger } from "pino";
import { ControlError, type Controls } from "../control/types.ts";
import type { HealthBody } from "../http/health.ts";
import { FINAL_STATUSES, type RunRecord } from "../types.ts";
import { jobsEmbed, noticeEmbed, plain, runEmbed, runsEmbed, statusEmbed } from "./answers.ts";
import { parseButton } from "./buttons.ts";

export interface InteractionDeps {
  controls: Controls;
  health(): Promise<HealthBody>;
  operators: ReadonlySet<string>;
  log: Logger;
  /** How long a `run` answer waits to be edited with the end of the run (Discord's token lasts 15 min). */
  runWaitMs?: number;
  /** Where to follow a long run (the daemon's URL), named in the follow-up. */
  baseUrl?: string;
}

const NO_PINGS = { parse: [] };
const EPHEMERAL = MessageFlags.Ephemeral;

function isOperator(interaction: Interaction, operators: ReadonlySet<string>): boolean {
  if (operators.has(interaction.user.id)) return true;
  const member = interaction.member;
  if (!member) return false;
  const roles = member instanceof GuildMember ? [...member.roles.cache.keys()] : member.roles;
  return roles.some((role) => operators.has(role));
}

function reply(embed: ReturnType<typeof noticeEmbed>): InteractionReplyOptions & { flags: typeof EPHEMERAL } {
  return { embeds: [embed], flags: EPHEMERAL, allowedMentions: NO_PINGS };
}

function failure(error: unknown): ReturnType<typeof noticeEmbed> {
  if (error instanceof ControlError)
    return noticeEmbed(`Not done (\`${error.code}\`): ${plain(error.message, 3000)}`, "warn");
  return noticeEmbed(
    `Something went wrong: ${plain(error instanceof Error ? error.message : String(error), 3000)}`,
    "bad",
  );
}

/** Resolves with the run once final, or null after `ms`. */
function waitForEnd(controls: Controls, runId: number, ms: number): Promise<RunRecord | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (run: RunRecord | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      resolve(run);
    };
    const timer = setTimeout(() => finish(null), ms);
    const unsubscribe = controls.subscribe((event) => {
      if (event.type === "run" && event.run.id === runId && FINAL_STATUSES.includes(event.run.status))
        finish(event.run);
    });
    // It may have ended before the subscription.
    void controls.getRun(runId).then((run) => run && FINAL_STATUSES.includes(run.status) && finish(run));
  });
}

async function refuse(
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  what: string,
  deps: InteractionDeps,
): Promise<void> {
  deps.log.warn(
    { user: interaction.user.id, guild: interaction.guildId, action: what },
    "discord: refused a change from a user who is not an operator",
  );
  await interaction.reply(
    reply(
      noticeEmbed(
        `Sorry, only Sundial's operators may ${what}. Ask one to add you (or your role) to SUNDIAL_DISCORD_OPERATORS.`,
        "warn",
      ),
    ),
  );
}

async function runJob(
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  job: string,
  dryRun: boolean,
  deps: InteractionDeps,
): Promise<void> {
  // Deferred at once: Discord drops an interaction not answered within 3 seconds.
  await interaction.deferReply({ flags: EPHEMERAL });
  let run: RunRecord;
  try {
    run = await deps.controls.trigger(job, { dryRun });
  } catch (error) {
    await interaction.editReply({ embeds: [failure(error)], allowedMentions: NO_PINGS });
    return;
  }
  deps.log.info({ user: interaction.user.id, job, run: run.id, dryRun }, "discord: run started");
  await interaction.editReply({
    embeds: [
      noticeEmbed(
        `Run #${run.id} of ${plain(job, 100)} started${dryRun ? " (dry run)" : ""}; this answer changes when it ends.`,
      ),
    ],
    allowedMentions: NO_PINGS,
  });
  const ended = await waitForEnd(deps.controls, run.id, deps.runWaitMs ?? 14 * 60_000);
  const detail = ended ? await deps.controls.getRun(run.id) : null;
  if (detail) await interaction.editReply({ embeds: [runEmbed(detail)], allowedMentions: NO_PINGS });
  else {
    const where = deps.baseUrl ? ` or at ${deps.baseUrl}/runs/${run.id}` : "";
    await interaction.followUp({
      ...reply(noticeEmbed(`Run #${run.id} is still going; follow it with /sundial show run:${run.id}${where}.`)),
    });
  }
}

async function command(interaction: ChatInputCommandInteraction, deps: InteractionDeps): Promise<void> {
  const { controls } = deps;
  const sub = interaction.options.getSubcommand();
  switch (sub) {
    case "status":
      return void (await interaction.reply(reply(statusEmbed(await deps.health(), await controls.listJobs()))));
    case "jobs":
      return void (await interaction.reply(reply(jobsEmbed(await controls.listJobs()))));
    case "runs": {
      const job = interaction.options.getString("job") ?? undefined;
      const page = await controls.listRuns({ job, limit: 15 });
      return void (await interaction.reply(reply(runsEmbed(page.runs, job))));
    }
    case "show": {
      const id = interaction.options.getInteger("run", true);
      const run = await controls.getRun(id);
      return void (await interaction.reply(
        reply(run ? runEmbed(run) : noticeEmbed(`There is no run #${id}.`, "warn")),
      ));
    }
  }
  if (!isOperator(interaction, deps.operators)) return refuse(interaction, `use /sundial ${sub}`, deps);
  try {
    switch (sub) {
      case "run":
        return await runJob(
          interaction,
          interaction.options.getString("job", true),
          interaction.options.getBoolean("dry") ?? false,
          deps,
        );
      case "pause": {
        const job = interaction.options.getString("job", true);
        await controls.pause(
          job,
          interaction.options.getString("reason") ?? `paused from Discord by ${interaction.user.username}`,
        );
        deps.log.info({ user: interaction.user.id, job }, "discord: job paused");
        return void (await interaction.reply(
          reply(noticeEmbed(`Paused ${plain(job, 100)}: no new scheduled runs until it is resumed.`, "ok")),
        ));
      }
      case "resume": {
        const job = interaction.options.getString("job", true);
        await controls.resume(job);
        deps.log.info({ user: interaction.user.id, job }, "discord: job resumed");
        return void (await interaction.reply(reply(noticeEmbed(`Resumed ${plain(job, 100)}.`, "ok"))));
      }
      case "cancel": {
        const id = interaction.options.getInteger("run", true);
        await controls.cancel(id);
        deps.log.info({ user: interaction.user.id, run: id }, "discord: run cancelled");
        return void (await interaction.reply(reply(noticeEmbed(`Run #${id} is cancelled.`, "ok"))));
      }
    }
  } catch (error) {
    if (interaction.deferred || interaction.replied) await interaction.followUp(reply(failure(error)));
    else await interaction.reply(reply(failure(error)));
  }
}

async function autocomplete(interaction: AutocompleteInteraction, deps: InteractionDeps): Promise<void> {
  const typed = interaction.options.getFocused().toLowerCase();
  const jobs = await deps.controls.listJobs();
  const choices = jobs
    .filter((job) => job.id.toLowerCase().includes(typed))
    .slice(0, 25)
    .map((job) => ({ name: job.id.slice(0, 100), value: job.id.slice(0, 100) }));
  await interaction.respond(choices);
}

async function button(interaction: ButtonInteraction, deps: InteractionDeps): Promise<void> {
  const action = parseButton(interaction.customId);
  if (!action)
    return void (await interaction.reply(
      reply(noticeEmbed("This button is from an older Sundial and no longer does anything.", "warn")),
    ));
  if (!isOperator(interaction, deps.operators))
    return refuse(
      interaction,
      action.kind === "show" ? "use alert buttons" : action.kind === "again" ? "run jobs again" : "pause jobs",
      deps,
    );
  try {
    if (action.kind === "show") {
      const run = await deps.controls.getRun(action.run);
      return void (await interaction.reply(
        reply(run ? runEmbed(run) : noticeEmbed(`Run #${action.run} is gone (pruned).`, "warn")),
      ));
    }
    if (action.kind === "again") return await runJob(interaction, action.job, false, deps);
    await deps.controls.pause(action.job, `paused from a Discord alert by ${interaction.user.username}`);
    deps.log.info({ user: interaction.user.id, job: action.job }, "discord: job paused from an alert");
    await interaction.reply(reply(noticeEmbed(`Paused ${plain(action.job, 100)}.`, "ok")));
  } catch (error) {
    if (interaction.deferred || interaction.replied) await interaction.followUp(reply(failure(error)));
    else await interaction.reply(reply(failure(error)));
  }
}

/** Handles one interaction; never throws (a failed answer is logged). */
export async function handleInteraction(interaction: Interaction, deps: InteractionDeps): Promise<void> {
  try {
    if (interaction.isAutocomplete()) await autocomplete(interaction, deps);
    else if (interaction.isChatInputCommand() && interaction.commandName === "sundial")
      await command(interaction, deps);
    else if (interaction.isButton()) await button(interaction, deps);
  } catch (error) {
    deps.log.error(
      { err: error instanceof Error ? error.message : String(error), interaction: interaction.id },
      "discord: answering an interaction failed",
    );
  }
}
