/**
 * @module discord-commands/buttons — the buttons on failure alerts (Show run, Run again, Pause
 * job). The custom_id (at most 100 characters) carries the action and the ids: `sundial:show:<run>`,
 * `sundial:again:<job>`, `sundial:pause:<job>`.
 */
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent } from "discord-api-types/v10";

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
      type: ComponentType.Button,
      style: ButtonStyle.Secondary,
      label: "Show run",
      custom_id: `sundial:show:${run.runId}`,
    },
    {
      type: ComponentType.Button,
      style: ButtonStyle.Primary,
      label: "Run again",
      custom_id: `sundial:again:${run.job}`,
    },
    {
      type: ComponentType.Button,
      style: ButtonStyle.Danger,
      label: "Pause job",
      custom_id: `sundial:pause:${run.job}`,
    },
  ];
  return [
    { type: ComponentType.ActionRow, components: buttons.filter((b) => "custom_id" in b && b.custom_id.length <= 100) },
  ];
}
