/**
 * @module discord-commands/definition — the `/sundial` command as registered with Discord (one
 * command, eight subcommands), hidden from members until a server admin grants it.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  type RESTPutAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";

const job = (description: string, required: boolean) =>
  ({
    type: ApplicationCommandOptionType.String,
    name: "job",
    description,
    required,
    autocomplete: true,
    max_length: 100,
  }) as const;
const run = {
  type: ApplicationCommandOptionType.Integer,
  name: "run",
  description: "The run's id",
  required: true,
  min_value: 1,
} as const;
const sub = (name: string, description: string, options: unknown[] = []) => ({
  type: ApplicationCommandOptionType.Subcommand,
  name,
  description,
  options,
});

/** The body of the bulk overwrite (PUT): the whole command set, replacing whatever was there. */
export const SUNDIAL_COMMANDS = [
  {
    type: ApplicationCommandType.ChatInput,
    name: "sundial",
    description: "See and steer Sundial's scheduled jobs",
    // "0": only administrators see it until a server admin grants it to members or roles.
    default_member_permissions: "0",
    options: [
      sub("status", "Sundial's health and what is running"),
      sub("jobs", "The jobs, their next runs and pauses"),
      sub("runs", "The latest runs", [job("Only this job's runs", false)]),
      sub("show", "One run: status, steps, cost, deliveries, error", [run]),
      sub("run", "Run a job now (operators)", [
        job("The job to run", true),
        {
          type: ApplicationCommandOptionType.Boolean,
          name: "dry",
          description: "Render the deliveries without sending them",
          required: false,
        },
      ]),
      sub("pause", "Stop a job's scheduled runs (operators)", [
        job("The job to pause", true),
        {
          type: ApplicationCommandOptionType.String,
          name: "reason",
          description: "Why (shown with the job)",
          required: false,
          max_length: 200,
        },
      ]),
      sub("resume", "Let a paused job run on its schedule again (operators)", [job("The job to resume", true)]),
      sub("cancel", "Cancel a queued or running run (operators)", [run]),
    ],
  },
] as RESTPutAPIApplicationCommandsJSONBody;
