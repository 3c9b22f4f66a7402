/**
 * @module emulators/leonardo — a loopback Leonardo.ai REST API (v1): POST /generations answers with a
 * job id, GET /generations/:id stays PENDING for `pendingPolls` looks, then COMPLETE with an image on
 * the emulator's own "CDN" (a real 1×1 PNG), or FAILED.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32, deflateSync } from "node:zlib";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface Fault {
  status?: number;
  retryAfter?: number;
  body?: string;
  delayMs?: number;
  /** Only requests whose path starts with this take the fault; others pass. */
  path?: string;
}

export interface EmulatedGeneration {
  id: string;
  prompt: string;
  modelId: string | undefined;
  width: number;
  height: number;
  numImages: number;
  polls: number;
  fails: boolean;
}

const API = "/api/rest/v1";

export async function startLeonardoEmulator(options: { apiKey?: string } = {}) {
  const generations: EmulatedGeneration[] = [];
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let failNextGeneration = false;
  let base = "";

  const emulator = {
    url: "",
    generations,
    requests,
    /** How many polls of a generation answer PENDING before it is COMPLETE. */
    pendingPolls: 2,
    /** The next generation created ends FAILED. */
    failGeneration(): void {
      failNextGeneration = true;
    },
    /** The next `n` requests (matching `fault.path`, when given) get this answer instead. */
    failNext(n: number, fault: Fault): void {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    /** Where generated images are said to be; another origin (a host Sundial must not fetch from) when set. */
    imageBase: null as string | null,
    /** Serve images of this many bytes (a PNG header, then filler), streamed as the client reads; 0 for the one-pixel PNG. */
    imageBytes: 0,
    /** Set when a client closed an image download before its end. */
    imageClosedEarly: false,
    imageBytesSent: 0,
    imageUrl(id: string): string {
      return `${emulator.imageBase ?? base}/users/emulated-user/generations/${id}/Leonardo_Lightning_XL_0.png`;
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };

  /** A huge image without content-length (chunked), as a misbehaving CDN might send. */
  function streamImage(response: ServerResponse): void {
    const filler = Buffer.alloc(64 * 1024, 0);
    ONE_PIXEL_PNG.copy(filler);
    emulator.imageBytesSent = 0;
    response.writeHead(200, { "content-type": "image/png" });
    response.on("close", () => {
      if (!response.writableFinished) emulator.imageClosedEarly = true;
    });
    const pump = (): void => {
      while (emulator.imageBytesSent < emulator.imageBytes && !response.destroyed) {
        emulator.imageBytesSent += filler.length;
        if (!response.write(filler)) return void response.once("drain", pump);
      }
      if (!response.destroyed) response.end();
    };
    pump();
  }

  function route(request: RecordedRequest, response: ServerResponse): void {
    const path = request.path.split("?")[0] ?? "";
    if (request.method === "GET" && path.startsWith("/users/") && path.endsWith(".png") && emulator.imageBytes > 0)
      return streamImage(response);
    if (request.method === "GET" && path.startsWith("/users/") && path.endsWith(".png")) {
      response.writeHead(200, { "content-type": "image/png", "content-length": ONE_PIXEL_PNG.length });
      return void response.end(ONE_PIXEL_PNG);
    }
    if (!path.startsWith(`${API}/`)) return json(response, 404, { error: "not found", path: "$", code: "not-found" });
    const auth = request.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!token || (options.apiKey !== undefined && token !== options.apiKey)) {
      return json(response, 401, { error: "Invalid authentication token", path: "$", code: "invalid-jwt" });
    }
    if (request.method === "POST" && path === `${API}/generations`) return create(request, response);
    const match = /^\/api\/rest\/v1\/generations\/([^/]+)$/.exec(path);
    if (request.method === "GET" && match) return poll(decodeURIComponent(match[1] ?? ""), response);
    json(response, 404, { error: "not found", path: "$", code: "not-found" });
  }

  function create(request: RecordedRequest, response: ServerResponse): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body) as Record<string, unknown>;
    } catch {
      return json(response, 400, { error: "Malformed JSON body", path: "$", code: "invalid-json" });
    }
    const { prompt, width = 1024, height = 768, num_images: numImages = 4, modelId } = body;
    const badSize = [width, height].some((v) => typeof v !== "number" || v % 8 !== 0 || v < 32 || v > 1536);
    if (typeof prompt !== "string" || prompt === "" || badSize || typeof numImages !== "number") {
      return json(response, 400, { error: "invalid generation parameters", path: "$", code: "validation-failed" });
    }
    const id = randomUUID();
    generations.push({
      id,
      prompt,
      modelId: typeof modelId === "string" ? modelId : undefined,
      width: width as number,
      height: height as number,
      numImages,
      polls: 0,
      fails: failNextGeneration,
    });
    failNextGeneration = false;
    json(response, 200, { sdGenerationJob: { generationId: id, apiCreditCost: 8 } });
  }

  function poll(id: string, response: ServerResponse): void {
    const generation = generations.find((candidate) => candidate.id === id);
    if (!generation) return json(response, 200, { generations_by_pk: null });
    generation.polls++;
    const done = generation.polls > emulator.pendingPolls;
    const status = !done ? "PENDING" : generation.fails ? "FAILED" : "COMPLETE";
    const images =
      status === "COMPLETE"
        ? [
            {
              id: randomUUID(),
              url: emulator.imageUrl(id),
              nsfw: false,
              likeCount: 0,
              motionMP4URL: null,
              generated_image_variation_generics: [],
            },
          ]
        : [];
    json(response, 200, {
      generations_by_pk: {
        id,
        status,
        prompt: generation.prompt,
        negativePrompt: "",
        modelId: generation.modelId ?? null,
        imageWidth: generation.width,
        imageHeight: generation.height,
        public: false,
        createdAt: new Date().toISOString(),
        generated_images: images,
      },
    });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      const index = faults.findIndex((fault) => !fault.path || recorded.path.startsWith(fault.path));
      const fault = index >= 0 ? faults.splice(index, 1)[0] : undefined;
      const respond = () => {
        if (!fault || (fault.status === undefined && fault.body === undefined)) return route(recorded, res);
        if (fault.retryAfter !== undefined) res.setHeader("retry-after", String(fault.retryAfter));
        const body = fault.body ?? JSON.stringify({ error: "emulated failure", path: "$", code: "unexpected" });
        res.writeHead(fault.status ?? 200, { "content-type": "application/json; charset=utf-8" });
        res.end(body);
      };
      if (fault?.delayMs) setTimeout(respond, fault.delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emulator.url = base;
  return emulator;
}

export type LeonardoEmulator = Awaited<ReturnType<typeof startLeonardoEmulator>>;

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** A valid 1×1 opaque orange PNG: signature, IHDR (8-bit RGB), one zlib-deflated scanline, IEND. */
function onePixelPng(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const scanline = Buffer.from([0, 0xf5, 0x9e, 0x0b]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(scanline)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export const ONE_PIXEL_PNG = onePixelPng();
