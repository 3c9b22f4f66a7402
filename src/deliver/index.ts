/** @module deliver — the delivery adapters by name, as jobs and alerts name them in `to`. */
import type { DeliveryAdapter } from "../types.ts";
import { discordDelivery } from "./discord.ts";
import { fileDelivery } from "./file.ts";
import { githubPrDelivery } from "./github-pr.ts";
import { stdoutDelivery } from "./stdout.ts";

export function createDeliveryAdapters(options: { write?: (text: string) => void } = {}): Map<string, DeliveryAdapter> {
  const adapters: DeliveryAdapter[] = [stdoutDelivery(options.write), fileDelivery(), discordDelivery(), githubPrDelivery()] as DeliveryAdapter[];
  return new Map(adapters.map((adapter) => [adapter.name, adapter]));
}
