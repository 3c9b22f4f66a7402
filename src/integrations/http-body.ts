/**
 * @module http-body — reads a response body with a byte limit: a `content-length` over the limit is
 * refused before a byte is read, and a body that lies (or sends none) is counted while it streams and
 * cancelled, closing the connection, as soon as it passes the limit. Nothing unbounded is buffered.
 */
import { ServiceError } from "../errors.ts";

export const KB = 1024;
export const MB = 1024 * KB;

/** Defaults per kind of body; each source may set its own. */
export const BODY_LIMITS = {
  feed: 5 * MB,
  page: 8 * MB,
  json: 1 * MB,
  image: 20 * MB,
  error: 64 * KB,
} as const;

export interface BodyLimit {
  /** Bytes allowed. */
  maxBytes: number;
  service: string;
  /** What answered, for the message: `feed https://example.com/feed.xml`. */
  what: string;
  /** How to fix it, appended to the message; by default none. */
  hint?: string;
}

export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${Number((bytes / MB).toFixed(1))} MB`;
  if (bytes >= KB) return `${Number((bytes / KB).toFixed(1))} KB`;
  return `${bytes} bytes`;
}

/** Too much: not retryable, the next attempt would get the same body. */
function tooLarge(limit: BodyLimit): ServiceError {
  return new ServiceError({
    service: limit.service,
    message: `${limit.what} answered more than ${formatBytes(limit.maxBytes)}${limit.hint ? `; ${limit.hint}` : ""}`,
  });
}

/** The whole body, at most `limit.maxBytes` of it; throws (and closes the connection) past that. */
export async function readBodyLimited(response: Response, limit: BodyLimit): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(limit);
  }
  const { chunks, total, complete } = await readUpTo(response, limit.maxBytes);
  if (!complete) throw tooLarge(limit);
  return join(chunks, total);
}

/** The body as text, keeping at most `maxBytes` of it and dropping the rest (error bodies, shown in part). */
export async function readTextPrefix(response: Response, maxBytes: number = BODY_LIMITS.error): Promise<string> {
  const { chunks, total } = await readUpTo(response, maxBytes);
  return new TextDecoder().decode(join(chunks, total).subarray(0, maxBytes));
}

async function readUpTo(
  response: Response,
  maxBytes: number,
): Promise<{ chunks: Uint8Array[]; total: number; complete: boolean }> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (!response.body) return { chunks, total, complete: true };
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks, total, complete: true };
    chunks.push(value);
    total += value.byteLength;
    if (total > maxBytes) {
      // Cancelling the stream aborts the request: the connection is closed, the rest never sent.
      await reader.cancel().catch(() => undefined);
      return { chunks, total, complete: false };
    }
  }
}

function join(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
