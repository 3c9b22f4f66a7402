/**
 * The guard every test runs under (test/setup/loopback-only.js) refuses the real service hosts that
 * appear in test text (the Discord message link the adapter builds, the YouTube links a channel
 * feed carries), so naming them can never become a request that leaves the machine.
 */
import { describe, expect, it } from "vitest";
import { refused } from "../setup/loopback-only.js";

describe("the loopback-only guard", () => {
  it.each([
    "https://discord.com/channels/1/2/3",
    "https://www.youtube.com/watch?v=abcdefghijk",
    "https://api.anthropic.com/v1/messages",
  ])("refuses %s before any byte is sent", async (url) => {
    const host = new URL(url).hostname;
    const before = refused.filter((h) => h === host).length;
    const error = await fetch(url).then(
      () => null,
      (e: unknown) => e as Error & { cause?: { message?: string } },
    );
    expect(error?.cause?.message ?? error?.message).toMatch(/loopback-only/);
    expect(refused.filter((h) => h === host).length).toBeGreaterThan(before);
  });

  it("lets loopback through", async () => {
    const error = await fetch("http://127.0.0.1:9/").then(
      () => null,
      (e: unknown) => e as Error & { cause?: { message?: string; code?: string } },
    );
    expect(error?.cause?.message ?? "").not.toMatch(/loopback-only/);
  });
});
