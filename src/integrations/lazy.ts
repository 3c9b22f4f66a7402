/** @module lazy — `once`: a module (and its SDK) imported, or a client made, on first use only. */

/** `make()` at most once, on the first call; a failure is not kept, so the next call tries again. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () =>
    (made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    }));
}
