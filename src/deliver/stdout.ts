/** @module stdout — delivers an output by printing it as markdown on standard output. */
import { z } from "zod";
import type { DeliveryAdapter } from "../types.ts";
import { defineDelivery } from "./define.ts";
import { renderMarkdown } from "./render.ts";

export const STDOUT = "stdout";

const schema = z.strictObject({ to: z.literal(STDOUT) });

export function stdoutDelivery(
  write: (text: string) => void = (text) => process.stdout.write(text),
): DeliveryAdapter<z.output<typeof schema>> {
  return {
    name: STDOUT,
    oneAtATime: true,
    async deliver(output, _target, ctx) {
      ctx.signal.throwIfAborted();
      write(renderMarkdown(output, ctx.earlier));
      return { to: STDOUT };
    },
    async preview(output, _target, ctx) {
      return renderMarkdown(output, ctx.earlier);
    },
  };
}

export const stdoutDefinition = defineDelivery({
  name: STDOUT,
  schema,
  requiredEnv: () => [],
  create: (options) => stdoutDelivery(options.write),
});
