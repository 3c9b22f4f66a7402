/**
 * @module feeds — fetches RSS, Atom and JSON sources with conditional requests, so an unchanged feed
 * costs one 304 and no parsing. The `type` of an XML source is a hint: "rss" and "atom" both parse
 * either format, detected by the root element, because feeds move between the two without notice.
 * A JSON source stays JSON (its mapping would mean nothing for XML) and an XML one stays XML.
 */
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { errorMessage, MissingCredentialError, ServiceError } from "../../errors.ts";
import type { Env, FeedItem } from "../../types.ts";
import type { FeedSourceSpec } from "../sources/feed.ts";
import type { JsonSourceSpec } from "../sources/json.ts";
import { registerSecret } from "../../log.ts";
import { fetchWithRetry, safeUrl } from "../http.ts";
import { BODY_LIMITS, formatBytes, readBodyLimited } from "../http-body.ts";
import type { NetworkPolicy } from "../http-redirects.ts";
import { parseJsonFeed } from "./parse-json.ts";
import { parseXmlFeed } from "./parse-xml.ts";

export interface CachedFeed {
  etag?: string;
  lastModified?: string;
  items: FeedItem[];
}

/** Where validators and parsed items are kept between fetches (the job's state, or memory). */
export interface HttpCache {
  get(key: string): CachedFeed | undefined;
  set(key: string, value: CachedFeed): void;
}

export type FeedSource = FeedSourceSpec | JsonSourceSpec;

export interface FeedFetcherOptions {
  /** Where `headersEnv` values are read from. */
  env: Env;
  signal: AbortSignal;
  log: Logger;
  cache: HttpCache;
  fetch?: typeof fetch;
  /** Further attempts after a 429, 5xx or network error; default 3. */
  retries?: number;
  /** How redirects are judged (a resolver, for tests). */
  network?: NetworkPolicy;
}

const ACCEPT = {
  xml: "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5",
  json: "application/feed+json, application/json;q=0.9, */*;q=0.5",
};
const USER_AGENT = "Sundial (feed reader)";

/** `call` aborts this one fetch (a source's own timeout); the fetcher's `signal` aborts them all. */
export function createFeedFetcher(
  options: FeedFetcherOptions,
): (source: FeedSource, call?: { signal?: AbortSignal }) => Promise<FeedItem[]> {
  const { log, cache, retries } = options;
  return async (source, call = {}) => {
    const signal = call.signal ? AbortSignal.any([options.signal, call.signal]) : options.signal;
    const url = httpUrl(source.url);
    const sourceName = source.name ?? url?.host ?? "(invalid url)";
    const service = `Feed ${sourceName}`;
    // Checked here because fetch would call a bad URL a network error, and network errors are retried.
    if (!url)
      throw new ServiceError({
        service,
        message: "the url is not an http(s) URL; write the full address, like https://example.com/feed.xml",
      });
    const key = cacheKey(source, url);
    const cached = cache.get(key);
    const headers: Record<string, string> = {
      accept: source.type === "json" ? ACCEPT.json : ACCEPT.xml,
      "user-agent": USER_AGENT,
    };
    if (cached?.etag) headers["if-none-match"] = cached.etag;
    if (cached?.lastModified) headers["if-modified-since"] = cached.lastModified;
    Object.assign(headers, credentialHeaders(source, url, options.env, service));
    // fetch refuses a URL with user:pass@; they went into an Authorization header above.
    const address = withoutUserinfo(url);

    const response = await fetchWithRetry(
      service,
      address,
      { headers },
      { signal, retries, fetch: options.fetch, network: options.network },
    );
    if (response.status === 304) {
      if (!cached)
        throw new ServiceError({
          service,
          message: `answered 304 Not Modified to a request that was not conditional (${safeUrl(source.url)})`,
        });
      log.debug({ source: sourceName, items: cached.items.length }, "feed unchanged (304)");
      return [...cached.items];
    }

    const maxBytes = source.maxBytes ?? BODY_LIMITS.feed;
    const limit = {
      maxBytes,
      service,
      what: `feed ${safeUrl(address)}`,
      hint: `raise maxBytes on that source (now ${formatBytes(maxBytes)}) if it is expected`,
    };
    const body = await readBody(response, limit, address, signal);
    const origin = { url: address, source: sourceName };
    let items: FeedItem[];
    try {
      items =
        source.type === "json"
          ? parseJsonFeed(body, source, origin, source.maxItems)
          : parseXmlFeed(body, origin, source.maxItems);
    } catch (error) {
      throw new ServiceError({ service, message: `${errorMessage(error)} (${safeUrl(address)})`, cause: error });
    }
    const entry: CachedFeed = { items };
    const etag = response.headers.get("etag");
    const lastModified = response.headers.get("last-modified");
    if (etag) entry.etag = etag;
    if (lastModified) entry.lastModified = lastModified;
    cache.set(key, entry);
    log.debug({ source: sourceName, items: items.length, conditional: Boolean(etag || lastModified) }, "feed fetched");
    return items;
  };
}

/**
 * Everything that shapes the items, not just the URL: a renamed source or a new field mapping must
 * not be answered from items parsed under the old one. The query (which may hold a key) is hashed.
 */
function cacheKey(source: FeedSource, url: URL): string {
  const mapping = source.type === "json" ? [source.itemsPath ?? null, source.fields ?? null] : [];
  const shape = JSON.stringify([
    source.type === "json" ? "json" : "xml",
    source.url,
    source.name ?? null,
    ...mapping,
    ...(source.maxItems ? [source.maxItems] : []),
  ]);
  return `feed:${url.host}${url.pathname}:${createHash("sha256").update(shape).digest("hex").slice(0, 16)}`;
}

/**
 * Headers from `headersEnv` (values read from the environment, registered as secrets so no log or
 * error shows them) and Basic auth from URL userinfo; a named variable that is unset is a clear error.
 */
function credentialHeaders(source: FeedSource, url: URL, env: Env, service: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    registerSecret(url.password ? decodeURIComponent(url.password) : undefined);
    const basic = Buffer.from(pair).toString("base64");
    registerSecret(basic);
    headers["authorization"] = `Basic ${basic}`;
  }
  for (const [name, variable] of Object.entries(source.headersEnv ?? {})) {
    const value = env[variable];
    if (!value)
      throw new MissingCredentialError({
        service,
        variable,
        namedBy: `headersEnv.${name}`,
        why: "set it in the environment (or .env)",
      });
    registerSecret(value);
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

/** The URL without `user:pass@`: what is fetched, shown and used to resolve an item's relative links. */
export function withoutUserinfo(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes with the declared charset (header, then the XML declaration); `Response.text()` assumes UTF-8. */
async function readBody(
  response: Response,
  limit: Parameters<typeof readBodyLimited>[1],
  url: string,
  signal: AbortSignal,
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readBodyLimited(response, limit);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof ServiceError) throw error;
    throw new ServiceError({
      service: limit.service,
      message: `the body could not be read: ${errorMessage(error)} (${safeUrl(url)})`,
      retryable: true,
      cause: error,
    });
  }
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256));
  const charset =
    /charset\s*=\s*"?([\w.:-]+)/i.exec(response.headers.get("content-type") ?? "")?.[1] ??
    /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1] ??
    "utf-8";
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    // An unknown label: UTF-8 is the best guess for anything on the web today.
    return new TextDecoder("utf-8").decode(bytes);
  }
}
