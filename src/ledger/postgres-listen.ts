/**
 * @module postgres-listen — the daemons' control channel on PostgreSQL: `LISTEN`/`NOTIFY` on one
 * channel. A listener needs a connection of its own for as long as it listens (a pooled one would
 * go back to the pool), so each daemon opens one client, and opens it again with backoff when it is
 * lost (a server restart). NOTIFY is not durable: a message sent while a listener was disconnected
 * is lost, so every message announces something already in the ledger, and the listener's
 * `onConnected` re-reads it after each (re)connection.
 */
import pg from "pg";
import type { ControlChannel, ControlMessage } from "./store.ts";

export const CONTROL_CHANNEL = "sundial_control";

/** The message if it is one of ours, else null (anyone with access to the database can NOTIFY). */
export function parseControlMessage(payload: string | undefined): ControlMessage | null {
  try {
    const value = JSON.parse(payload ?? "") as Record<string, unknown>;
    if (value.type === "pauses") return { type: "pauses" };
    if (value.type === "cancel" && Number.isSafeInteger(value.runId) && typeof value.owner === "string")
      return { type: "cancel", runId: value.runId as number, owner: value.owner };
  } catch {
    // Not JSON: not ours.
  }
  return null;
}

export function postgresControlChannel(url: string, pool: pg.Pool): ControlChannel {
  return {
    async send(message) {
      await pool.query("SELECT pg_notify($1, $2)", [CONTROL_CHANNEL, JSON.stringify(message)]);
    },
    listen(onMessage, onConnected, warn) {
      let closed = false;
      let client: pg.Client | null = null;
      let retry: ReturnType<typeof setTimeout> | undefined;
      let failures = 0;
      const reconnect = (why: string) => {
        if (closed || retry) return;
        client?.removeAllListeners();
        void client?.end().catch(() => undefined);
        client = null;
        const wait = Math.min(5_000, 100 * 2 ** Math.min(failures++, 6));
        if (failures === 1 || failures % 10 === 0)
          warn?.(`the control channel lost its PostgreSQL connection (${why}); reconnecting in ${wait} ms`);
        retry = setTimeout(() => {
          retry = undefined;
          void connect();
        }, wait);
        retry.unref();
      };
      const connect = async () => {
        const next = new pg.Client({
          connectionString: url,
          keepAlive: true,
          connectionTimeoutMillis: 10_000,
          application_name: "sundial-listen",
        });
        client = next;
        next.on("error", (error) => reconnect(error.message));
        next.on("end", () => reconnect("connection ended"));
        next.on("notification", (note) => {
          if (note.channel !== CONTROL_CHANNEL) return;
          const message = parseControlMessage(note.payload);
          if (message) onMessage(message);
        });
        try {
          await next.connect();
          await next.query(`LISTEN ${CONTROL_CHANNEL}`);
          if (closed) return void next.end().catch(() => undefined);
          failures = 0;
          onConnected();
        } catch (error) {
          if (client === next) reconnect((error as Error).message);
        }
      };
      void connect();
      return {
        async close() {
          closed = true;
          clearTimeout(retry);
          const last = client;
          client = null;
          last?.removeAllListeners();
          last?.on("error", () => undefined);
          await last?.end().catch(() => undefined);
        },
      };
    },
  };
}
