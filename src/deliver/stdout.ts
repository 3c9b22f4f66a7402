/** @module stdout — delivers an output by printing it as markdown on standard output. */
import type { DeliveryAdapter, DeliveryTarget } from "../types.ts";
import { renderMarkdown } from "./render.ts";

export const STDOUT = "stdout";

export function stdoutDelivery(write: (text: string) => void = (text) => process.stdout.write(text)): DeliveryAdapter<Extract<DeliveryTarget, { to: "stdout" }>> {
  return {
    name: STDOUT,
    oneAtATime: true,
    requiredEnv: () => [],
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
