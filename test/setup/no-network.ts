/** Vitest setup: every test runs with non-loopback connections refused (see loopback-only.js). */
import "./loopback-only.js";
