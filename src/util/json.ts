/**
 * @module json — JSON for stored step results and state, with bytes kept intact: a hero image
 * returned by a step comes back as the same `Uint8Array` when a resumed run reuses the step.
 */
const BYTES = "$sundialBytes";

export function encodeValue(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value, function replacer(this: unknown, key, current: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) return { [BYTES]: Buffer.from(raw).toString("base64") };
    return current;
  });
}

export function decodeValue(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === "object" && typeof (value as Record<string, unknown>)[BYTES] === "string") {
      return new Uint8Array(Buffer.from((value as Record<string, string>)[BYTES] as string, "base64"));
    }
    return value;
  });
}
