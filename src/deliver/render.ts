/** @module render — an output as one markdown document, for the stdout and file deliveries. */
import type { Output, Receipt } from "../types.ts";

export function renderMarkdown(output: Output, earlier: Receipt[] = []): string {
  const parts = [`# ${output.title}`];
  if (output.summary) parts.push(output.summary);
  parts.push(output.markdown.trim());
  const links = [
    ...(output.links ?? []),
    ...earlier.filter((r) => r.url).map((r) => ({ title: r.to, url: r.url as string })),
  ];
  if (links.length) parts.push(links.map((link) => `- [${link.title}](${link.url})`).join("\n"));
  if (output.files?.length) parts.push(`Files: ${output.files.map((file) => file.path).join(", ")}`);
  return `${parts.join("\n\n")}\n`;
}
