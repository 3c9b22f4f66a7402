/**
 * @module emulators/feeds — a loopback HTTP server that serves feeds the way real publishers do:
 * `ETag` and `Last-Modified` on every 200, 304 when `If-None-Match` / `If-Modified-Since` match,
 * 404 for unknown paths; it records every request and can fail, slow down or corrupt the next ones.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FeedDocument {
  body: string | Uint8Array;
  contentType: string;
  etag?: string;
  lastModified?: string;
  /** Served instead of `body`: this many bytes of XML-looking filler, streamed in 64 KB chunks as the client reads. */
  streamBytes?: number;
  /** The `content-length` sent with `streamBytes` (true or a lie); none (chunked) when absent. */
  contentLength?: number;
  /** Answers with this redirect status and `location` instead of the feed. */
  redirect?: { status: number; location: string };
}

export interface Fault {
  status: number;
  /** Seconds (or an HTTP date) sent as `retry-after`. */
  retryAfter?: number | string;
  /** Sent instead of the default error body; with status 200, a malformed feed body. */
  body?: string;
  /** Wait before answering; with status 200 and no body, the real feed is served late. */
  delayMs?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path with its query string, as received. */
  path: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  accept?: string;
  userAgent?: string;
  /** Status served; 0 while unanswered or when the client left before the answer. */
  status: number;
  /** Request headers as received. */
  headers: IncomingMessage["headers"];
  /** Body bytes written to the socket (streamed documents). */
  bytesSent: number;
  /** True when the client closed the connection before the whole body was sent. */
  closedEarly: boolean;
}

export interface FeedEmulator {
  url: string;
  setFeed(path: string, document: FeedDocument): void;
  requests: RecordedRequest[];
  /** The next `count` requests to `path` get this fault instead of the feed. */
  failNext(path: string, count: number, fault: Fault): void;
  close(): Promise<void>;
}

export async function startFeedEmulator(): Promise<FeedEmulator> {
  const feeds = new Map<string, FeedDocument>();
  const faults = new Map<string, Fault[]>();
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    const pathname = new URL(path, "http://127.0.0.1").pathname;
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      status: 0,
      headers: req.headers,
      bytesSent: 0,
      closedEarly: false,
      ...conditionalHeaders(req),
    };
    requests.push(record);
    const send = (status: number, headers: Record<string, string>, body?: string | Uint8Array): void => {
      record.status = status;
      res.writeHead(status, headers).end(body);
    };
    const fault = faults.get(pathname)?.shift();
    const answer = (): void => {
      const feed = feeds.get(pathname);
      if (fault && !(fault.status === 200 && fault.body === undefined)) return sendFault(fault, feed, send);
      if (!feed) return send(404, { "content-type": "text/plain" }, "Not Found");
      if (feed.redirect) return send(feed.redirect.status, { location: feed.redirect.location }, "");
      if (feed.streamBytes !== undefined) return streamFeed(res, feed, record);
      serveFeed(req, feed, send);
    };
    if (!fault?.delayMs) return answer();
    const timer = setTimeout(answer, fault.delayMs);
    res.on("close", () => {
      clearTimeout(timer);
      if (!res.writableFinished) record.closedEarly = true;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setFeed: (path, document) => void feeds.set(path, document),
    failNext(path, count, fault) {
      const queue = faults.get(path) ?? [];
      for (let i = 0; i < count; i++) queue.push(fault);
      faults.set(path, queue);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const CHUNK = Buffer.alloc(64 * 1024, "<x>filler</x>");

/** Writes `streamBytes` of filler as fast as the client reads; stops (and records it) when the client leaves. */
function streamFeed(res: ServerResponse, feed: FeedDocument, record: RecordedRequest): void {
  const total = feed.streamBytes ?? 0;
  const headers: Record<string, string | number> = { "content-type": feed.contentType };
  if (feed.contentLength !== undefined) headers["content-length"] = feed.contentLength;
  record.status = 200;
  res.writeHead(200, headers);
  res.on("close", () => {
    if (!res.writableFinished) record.closedEarly = true;
  });
  const pump = (): void => {
    while (record.bytesSent < total && !res.destroyed) {
      const chunk = CHUNK.subarray(0, Math.min(CHUNK.length, total - record.bytesSent));
      record.bytesSent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

type Send = (status: number, headers: Record<string, string>, body?: string | Uint8Array) => void;

function serveFeed(req: IncomingMessage, feed: FeedDocument, send: Send): void {
  const validators: Record<string, string> = {};
  if (feed.etag) validators["etag"] = feed.etag;
  if (feed.lastModified) validators["last-modified"] = feed.lastModified;
  if (notModified(req, feed)) return send(304, validators);
  send(200, { "content-type": feed.contentType, ...validators }, feed.body);
}

/** RFC 9110 §13.1: `If-None-Match` (weak comparison) wins; `If-Modified-Since` only counts without it. */
function notModified(req: IncomingMessage, feed: FeedDocument): boolean {
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    if (!feed.etag) return false;
    const weak = (tag: string): string => tag.trim().replace(/^W\//, "");
    return ifNoneMatch.trim() === "*" || ifNoneMatch.split(",").some((tag) => weak(tag) === weak(feed.etag as string));
  }
  const since = Date.parse(req.headers["if-modified-since"] ?? "");
  const modified = Date.parse(feed.lastModified ?? "");
  return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
}

function sendFault(fault: Fault, feed: FeedDocument | undefined, send: Send): void {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  if (fault.status === 200) {
    headers["content-type"] = feed?.contentType ?? "application/xml";
    return send(200, headers, fault.body);
  }
  headers["content-type"] = "text/plain";
  send(fault.status, headers, fault.body ?? `emulated ${fault.status}`);
}

function conditionalHeaders(req: IncomingMessage): Partial<RecordedRequest> {
  const found: Partial<RecordedRequest> = {};
  if (req.headers["if-none-match"]) found.ifNoneMatch = req.headers["if-none-match"];
  if (req.headers["if-modified-since"]) found.ifModifiedSince = req.headers["if-modified-since"];
  if (req.headers.accept) found.accept = req.headers.accept;
  if (req.headers["user-agent"]) found.userAgent = req.headers["user-agent"];
  return found;
}
