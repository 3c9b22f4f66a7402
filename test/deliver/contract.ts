/**
 * The contract every delivery adapter passes (as unstorage's drivers share one test): a receipt
 * naming the adapter, an aborted signal honoured before anything is sent, failures that name the
 * adapter, and a preview that sends nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import type { DeliveryAdapter, DeliveryContext, DeliveryTarget, Env, Output } from "../../src/types.ts";

export interface ContractSetup<T extends DeliveryTarget> {
  adapter: DeliveryAdapter<T>;
  target: T;
  env: Env;
  dataDir: string;
  /** A target (with env) whose delivery must fail, such as a service answering 403. */
  failing: { target: T; env: Env };
  /** How many deliveries the backing service (or file system) has received so far. */
  sentCount(): Promise<number> | number;
  close(): Promise<void> | void;
}

export const sampleOutput: Output = {
  title: "Contract output",
  summary: "A short summary.",
  markdown: "# Contract output\n\nSome body text with a [link](https://example.org/a).",
  files: [{ path: "contract-output.md", content: "# Contract output\n" }],
  key: "contract-1",
  slug: "contract-output",
};

export function deliveryContext(
  setup: { env: Env; dataDir: string },
  signal = new AbortController().signal,
): DeliveryContext {
  return {
    job: "contract-job",
    runId: 1,
    env: setup.env,
    dataDir: setup.dataDir,
    signal,
    log: pino({ level: "silent" }),
    earlier: [],
  };
}

export function describeDeliveryContract<T extends DeliveryTarget>(
  name: string,
  makeSetup: () => Promise<ContractSetup<T>>,
): void {
  describe(`delivery contract: ${name}`, () => {
    let setup: ContractSetup<T>;
    beforeAll(async () => {
      setup = await makeSetup();
    });
    afterAll(async () => {
      await setup?.close();
    });

    it("returns a receipt that names the adapter", async () => {
      const before = await setup.sentCount();
      const receipt = await setup.adapter.deliver(sampleOutput, setup.target, deliveryContext(setup));
      expect(receipt.to).toBe(setup.adapter.name);
      expect(await setup.sentCount()).toBeGreaterThan(before);
    });

    it("sends nothing when the signal is already aborted", async () => {
      const before = await setup.sentCount();
      const controller = new AbortController();
      controller.abort(new Error("shutting down"));
      await expect(
        setup.adapter.deliver(sampleOutput, setup.target, deliveryContext(setup, controller.signal)),
      ).rejects.toThrow();
      expect(await setup.sentCount()).toBe(before);
    });

    it("names the adapter in its errors", async () => {
      const error = await setup.adapter
        .deliver(sampleOutput, setup.failing.target, deliveryContext({ ...setup, env: setup.failing.env }))
        .then(
          () => null,
          (e: unknown) => e as Error,
        );
      expect(error).toBeInstanceOf(Error);
      expect(error?.message.toLowerCase()).toContain(name.toLowerCase().split("-")[0]);
    });

    it("previews without sending", async () => {
      const before = await setup.sentCount();
      const text = await setup.adapter.preview(sampleOutput, setup.target, deliveryContext(setup));
      expect(text).toContain("Contract output");
      expect(await setup.sentCount()).toBe(before);
    });
  });
}
