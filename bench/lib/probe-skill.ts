/**
 * @module bench/probe-skill — the source of a no-op skill that also notes, in memory, when each run
 * really began (the daemon's clock, inside the skill) and writes the notes to $BENCH_PROBE_FILE
 * when the daemon exits: the fire lag as a skill sees it, beside the ledger's started_at.
 */
export const PROBE_SKILL = `import { writeFileSync } from "node:fs";
import { defineSkill, z } from "sundial";

const notes: number[] = [];
process.once("exit", () => {
  if (process.env.BENCH_PROBE_FILE) writeFileSync(process.env.BENCH_PROBE_FILE, JSON.stringify(notes));
});

export default defineSkill({
  name: "probe",
  description: "Does nothing but note when it started.",
  params: z.object({}),
  async run(ctx) {
    notes.push(Date.parse(ctx.run.scheduledFor), Date.now());
    return { title: "probe", markdown: "" };
  },
});
`;

/** [scheduledFor, began] pairs from the probe's file, as lags in ms grouped by slot. */
export function lagsBySlot(notes: number[]): Map<number, number[]> {
  const bySlot = new Map<number, number[]>();
  for (let i = 0; i + 1 < notes.length; i += 2) {
    const slot = notes[i] as number;
    const list = bySlot.get(slot) ?? [];
    list.push((notes[i + 1] as number) - slot);
    bySlot.set(slot, list);
  }
  return bySlot;
}
