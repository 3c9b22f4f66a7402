// Refuses any TCP connection to a host that is not loopback, in tests and in daemons they spawn
// (`node --import=./test/setup/loopback-only.js`), so no test can reach the internet unnoticed.
import net from "node:net";

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(?:\.\d{1,3}){3})$/i;

export const refused = [];

function hostOf(args) {
  const first = args[0];
  if (Array.isArray(first)) return hostOf(first);
  if (first && typeof first === "object") return first.path ? "localhost" : (first.host ?? "localhost");
  if (typeof first === "number") return typeof args[1] === "string" ? args[1] : "localhost";
  return "localhost"; // a string first argument is a unix socket path
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const host = String(hostOf(args));
  if (!LOOPBACK.test(host)) {
    refused.push(host);
    const error = new Error(`loopback-only: a test tried to reach ${host}; only loopback emulators may be used`);
    error.code = "ECONNREFUSED";
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return originalConnect.apply(this, args);
};
