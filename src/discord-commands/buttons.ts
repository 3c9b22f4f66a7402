/**
 * @module discord-commands/buttons — the buttons on failure alerts (Show run, Run again, Pause
 * job). The custom_id (at most 100 characters) carries the action and the ids: `sundial:show:<run>`,
 * `sundial:again:<job>`, `sundial:pause:<job>`.
 */
// Types only: the enums' module is large, and every command loads this file (through the Discord
// delivery target); its values are Discord's own numbers, fixed by the API.
import type { APIActionRowComponent, APIButtonComponent, ButtonStyle, ComponentType } from "discord-api-types/v10";

const ACTION_ROW = 1 as ComponentType.ActionRow;
const BUTTON = 2 as ComponentType.Button;
const PRIMARY = 1 as ButtonStyle.Primary;
const SECONDARY = 2 as ButtonStyle.Secondary;
const DANGER = 4 as ButtonStyle.Danger;

export type ButtonAction =
  { kind: "show"; run: number } | { kind: "again"; job: string } | { kind: "pause"; job: string };

export function parseButton(customId: string): ButtonAction | null {
  const match = /^sundial:(show|again|pause):(.+)$/.exec(customId);
  if (!match) return null;
  const [, kind, id] = match as unknown as [string, string, string];
  if (kind === "show") return /^\d+$/.test(id) ? { kind, run: Number(id) } : null;
  return { kind: kind as "again" | "pause", job: id };
}

/** The row of buttons for a failed run; a button whose id would pass 100 characters is left out. */
export function alertButtons(run: { runId: number; job: string }): APIActionRowComponent<APIButtonComponent>[] {
  const buttons: APIButtonComponent[] = [
    {
      type: BUTTON,
      style: SECONDARY,
      label: "Show run",
      custom_id: `sundial:show:${run.runId}`,
    },
    {
      type: BUTTON,
      style: PRIMARY,
      label: "Run again",
      custom_id: `sundial:again:${run.job}`,
    },
    {
      type: BUTTON,
      style: DANGER,
      label: "Pause job",
      custom_id: `sundial:pause:${run.job}`,
    },
  ];
  return [{ type: ACTION_ROW, components: buttons.filter((b) => "custom_id" in b && b.custom_id.length <= 100) }];
}
