/** @module start — `sundial start`: the daemon in the foreground until SIGTERM or SIGINT. */
import type { App } from "../app.ts";
import { startDaemon } from "../daemon/daemon.ts";

export async function startCommand(app: App): Promise<void> {
  const daemon = await startDaemon(app);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      app.log.info({ signal }, "signal received");
      daemon.stop().then(resolve, (error: unknown) => {
        app.log.error({ err: String(error) }, "error while stopping");
        resolve();
      });
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  // Sockets kept alive by SDKs must not hold the process open after a clean stop.
  process.exit(0);
}
