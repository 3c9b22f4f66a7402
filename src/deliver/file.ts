/**
 * @module file — delivers an output as a markdown file in the data directory's own `deliveries/`
 * folder. The path may use {job}, {date}, {time}, {slug} and {key}; it can never leave that folder,
 * so no output (nor a `{key}` such as "sundial.db") can reach the ledger or anything else Sundial keeps.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { DeliveryAdapter, DeliveryContext, Output } from "../types.ts";
import { NonRetryableError } from "../errors.ts";
import { defineDelivery } from "./define.ts";
import { renderMarkdown } from "./render.ts";

export const FILE = "file";
/** The folder of the data directory that file deliveries write in, and never leave. */
export const DELIVERIES_DIR = "deliveries";

const schema = z.strictObject({
  to: z.literal(FILE),
  path: z.string().min(1).describe("file under the data directory; {date} and {job} are replaced"),
});

export function fileDeliveryPath(
  template: string,
  output: Output,
  ctx: Pick<DeliveryContext, "job" | "dataDir">,
  now = new Date(),
): string {
  const stamp = now.toISOString();
  const slug =
    (output.slug ?? output.title)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 60) || "output";
  const filled = template
    .replaceAll("{job}", ctx.job)
    .replaceAll("{date}", stamp.slice(0, 10))
    .replaceAll("{time}", stamp.slice(11, 19).replaceAll(":", ""))
    .replaceAll("{slug}", slug)
    .replaceAll("{key}", (output.key ?? slug).replace(/[^\w.-]+/g, "-"));
  const root = resolve(ctx.dataDir, DELIVERIES_DIR);
  const target = resolve(root, filled);
  const inside = relative(root, target);
  if (isAbsolute(filled) || !inside || inside.startsWith("..") || isAbsolute(inside)) {
    throw new NonRetryableError(
      `file delivery: path "${template}" would leave the data directory's ${DELIVERIES_DIR}/ folder; use a relative path like "digests/{date}.md"`,
    );
  }
  return target;
}

export function fileDelivery(): DeliveryAdapter<z.output<typeof schema>> {
  return {
    name: FILE,
    oneAtATime: true,
    async deliver(output, target, ctx) {
      ctx.signal.throwIfAborted();
      const path = fileDeliveryPath(target.path, output, ctx);
      try {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, renderMarkdown(output, ctx.earlier), { signal: ctx.signal });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        throw new Error(`file delivery: cannot write ${relative(ctx.dataDir, path)}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return { to: FILE, url: pathToFileURL(path).href, detail: { path } };
    },
    async preview(output, target, ctx) {
      return `file ${fileDeliveryPath(target.path, output, ctx)}:\n${renderMarkdown(output, ctx.earlier)}`;
    },
  };
}

export const fileDefinition = defineDelivery({
  name: FILE,
  schema,
  requiredEnv: () => [],
  create: () => fileDelivery(),
});
