/**
 * @module operate/helpers — calling a real daemon's operator API in tests: JSON requests with the
 * token, and an event-stream reader that collects Server-Sent Events as they arrive.
 */
export const TOKEN = "test-operator-token-not-a-secret";

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export function apiClient(url: string, token: string = TOKEN) {
  return async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> => {
    const response = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Opens `/api/v1/events` and collects its events until `close()`. */
export async function openEvents(url: string, token: string = TOKEN) {
  const controller = new AbortController();
  const response = await fetch(`${url}/api/v1/events`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const reading = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    events,
    async close() {
      controller.abort();
      await reading;
    },
  };
}
