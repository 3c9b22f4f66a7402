/**
 * @module http-redirects — follows redirects by hand, within reason: at most 5 hops, never from
 * https down to http, never to a private, loopback or link-local address unless the URL first asked
 * for is itself one (a feed on the LAN may redirect within the LAN; a public feed may not point
 * Sundial at the metadata service or the router). Credentials are not carried to another origin.
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { ServiceError } from "../errors.ts";

export const MAX_REDIRECTS = 5;

export interface NetworkPolicy {
  /** Addresses a host name resolves to, to judge where a URL leads; default the system resolver. */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Redirects followed from one URL; default 5. */
  maxRedirects?: number;
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 127],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  PRIVATE.addSubnet(net, prefix, "ipv6");

/** True for loopback, private (RFC 1918, ULA, CGNAT), link-local, unspecified and multicast addresses. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(bare);
  if (family === 0) return false;
  return PRIVATE.check(bare, family === 4 ? "ipv4" : "ipv6");
}

const systemResolve = async (hostname: string): Promise<string[]> =>
  (await lookup(hostname, { all: true })).map((entry) => entry.address);

/** True when the host is, or resolves to, any private address; a name that does not resolve is left to fetch to report. */
export async function leadsToPrivate(hostname: string, policy: NetworkPolicy = {}): Promise<boolean> {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) return isPrivateAddress(host);
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  let addresses: string[];
  try {
    addresses = await (policy.resolve ?? systemResolve)(host);
  } catch {
    return false;
  }
  return addresses.some(isPrivateAddress);
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Headers that are safe to send to another origin; anything else (authorization, keys, cookies) stays behind. */
const CROSS_ORIGIN_HEADERS = new Set([
  "accept",
  "accept-language",
  "user-agent",
  "content-type",
  "if-none-match",
  "if-modified-since",
]);

/**
 * `fetch` that follows redirects by the rules above; a refused redirect is a non-retryable
 * `ServiceError` that says where it pointed and why it was not followed.
 */
export async function fetchFollowing(
  doFetch: typeof fetch,
  service: string,
  url: string,
  init: RequestInit,
  policy: NetworkPolicy = {},
): Promise<Response> {
  const first = new URL(url);
  const max = policy.maxRedirects ?? MAX_REDIRECTS;
  let allowPrivate: boolean | undefined;
  let current = first;
  let request: RequestInit = { ...init, redirect: "manual" };
  for (let hop = 0; ; hop++) {
    const response = await doFetch(current.href, request);
    if (!REDIRECT.has(response.status)) return response;
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get("location");
    const from = `${current.origin}${current.pathname}`;
    if (!location)
      throw new ServiceError({
        service,
        message: `${from} answered ${response.status} without a location to go to`,
        status: response.status,
      });
    if (hop >= max)
      throw new ServiceError({
        service,
        message: `${first.origin}${first.pathname} redirected more than ${max} times; use the final address`,
      });
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new ServiceError({ service, message: `${from} redirected to an invalid URL` });
    }
    const to = `${next.origin}${next.pathname}`;
    if (next.protocol !== "http:" && next.protocol !== "https:")
      throw new ServiceError({ service, message: `${from} redirected to ${next.protocol} URL, which is not followed` });
    if (current.protocol === "https:" && next.protocol === "http:")
      throw new ServiceError({ service, message: `${from} redirected from https down to http (${to}); not followed` });
    allowPrivate ??= await leadsToPrivate(first.hostname, policy);
    if (!allowPrivate && (await leadsToPrivate(next.hostname, policy))) {
      throw new ServiceError({
        service,
        message: `${from} redirected to ${to}, a private, loopback or link-local address; not followed (a public address may not point Sundial inside the network)`,
      });
    }
    request = redirected(request, response.status, next.origin !== current.origin);
    current = next;
  }
}

/** 303 (and 301/302 after a POST) becomes a GET without a body, as browsers do; another origin gets no credentials. */
function redirected(init: RequestInit, status: number, crossOrigin: boolean): RequestInit {
  const method = (init.method ?? "GET").toUpperCase();
  const toGet = status === 303 || ((status === 301 || status === 302) && method === "POST");
  const headers = new Headers(init.headers);
  if (toGet) headers.delete("content-type");
  if (crossOrigin) for (const name of [...headers.keys()]) if (!CROSS_ORIGIN_HEADERS.has(name)) headers.delete(name);
  const next: RequestInit = { ...init, headers };
  if (toGet) {
    next.method = "GET";
    delete next.body;
  }
  return next;
}
