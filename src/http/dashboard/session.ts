/**
 * @module dashboard/session — sign-in with the operator token. The cookie holds an HMAC derived
 * from the token, never the token: a leaked cookie does not reveal it, and changing the token signs
 * every browser out. Comparisons are constant time; state-changing requests must come from this host.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "sundial_session";
export const FLASH_COOKIE = "sundial_flash";

/** The session value for a token (hex HMAC-SHA256 under a fixed label). */
export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("sundial dashboard session v1").digest("hex");
}

/** Constant-time equality of two strings of any length (both hashed first, so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function sessionCookie(value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/${secure ? "; Secure" : ""}`;
}

export function clearCookie(name: string): string {
  return `${name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

/**
 * True when a state-changing request comes from a page of this host: its Origin (or, when a
 * browser sends none, its Referer) has the request's Host. Neither header → refused.
 */
export function sameOrigin(headers: { origin?: string; referer?: string; host?: string }): boolean {
  const host = headers.host;
  if (!host) return false;
  const source = headers.origin && headers.origin !== "null" ? headers.origin : headers.referer;
  if (!source) return false;
  try {
    return new URL(source).host === host;
  } catch {
    return false;
  }
}

/** A path on this site to go back to after a form: relative, no scheme, no `//host`. */
export function safeBack(back: unknown, fallback = "/"): string {
  return typeof back === "string" && /^\/(?![/\\])[^\s]*$/.test(back) ? back : fallback;
}
