/**
 * @module emulators/youtube — a loopback YouTube serving what Sundial and youtube-transcript 1.3.1
 * fetch: channel Atom feeds, the ANDROID innertube player API, the watch page (its fallback) and
 * timedtext caption tracks in classic XML (seconds) or srv3 (milliseconds). Like YouTube, a channel
 * feed lists only the latest 15 videos, and `botCheck` answers as YouTube answers a suspected server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TranscriptSegment, Video } from "../../src/types.ts";

export type EmulatedVideo = Pick<Video, "id" | "title" | "publishedAt" | "description">;
/** Times in seconds, whatever format the track is served in. */
export type CaptionSegment = TranscriptSegment;

/** `path` holds the path and query, as received. */
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

/** The newest this many videos are in a channel's feed, as on YouTube. */
export const FEED_VIDEOS = 15;
const NOT_A_BOT = "Sign in to confirm you\u2019re not a bot";

type Track = { segments: CaptionSegment[]; format: "classic" | "srv3"; lang: string };

/** Where the captions of a video are served from, as YouTube writes it: the host is rewritten by the client. */
const CAPTION_HOST = "https://www.youtube.com";

export async function startYouTubeEmulator() {
  const channels = new Map<string, EmulatedVideo[]>();
  const transcripts = new Map<string, Track | null>();
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];

  /**
   * "page": the player and watch page say LOGIN_REQUIRED, "Sign in to confirm you're not a bot", as
   * YouTube answers many servers; "429": every transcript request is rate limited, with the captcha page.
   */
  let botCheck: "page" | "429" | null = null;

  function playerResponse(videoId: string): Record<string, unknown> {
    if (botCheck === "page") {
      return {
        playabilityStatus: {
          status: "LOGIN_REQUIRED",
          reason: NOT_A_BOT,
          errorScreen: {
            playerErrorMessageRenderer: { subreason: { simpleText: "This helps protect our community." } },
          },
        },
      };
    }
    if (!transcripts.has(videoId)) return { playabilityStatus: { status: "ERROR", reason: "Video unavailable" } };
    const track = transcripts.get(videoId);
    const base = {
      playabilityStatus: { status: "OK", playableInEmbed: true },
      videoDetails: { videoId, title: `Video ${videoId}`, lengthSeconds: "120" },
    };
    if (!track) return base;
    const query = new URLSearchParams({
      v: videoId,
      ei: "emulated",
      caps: "asr",
      opi: "112496729",
      xoaf: "5",
      hl: track.lang,
      ip: "0.0.0.0",
      sparams: "ip,ipbits,expire,v,ei,caps,opi,xoaf",
      signature: "EMULATED",
      key: "yt8",
      lang: track.lang,
    });
    if (track.format === "srv3") query.set("fmt", "srv3");
    const captionTrack = {
      baseUrl: `${CAPTION_HOST}/api/timedtext?${query}`,
      name: { runs: [{ text: track.lang }] },
      vssId: `.${track.lang}`,
      languageCode: track.lang,
      isTranslatable: true,
      trackName: "",
    };
    return {
      ...base,
      captions: {
        playerCaptionsTracklistRenderer: {
          captionTracks: [captionTrack],
          audioTracks: [{ captionTrackIndices: [0] }],
          defaultAudioTrackIndex: 0,
        },
      },
    };
  }

  function route(request: RecordedRequest, url: URL, response: ServerResponse): void {
    if (request.method === "GET" && url.pathname === "/feeds/videos.xml") return serveFeed(url, response);
    if (botCheck === "429") {
      return send(
        response,
        429,
        "text/html; charset=utf-8",
        `<html><body>Our systems have detected unusual traffic from your computer network.<form><div class="g-recaptcha" data-sitekey="emulated"></div></form></body></html>`,
      );
    }
    if (request.method === "POST" && url.pathname === "/youtubei/v1/player") {
      const videoId = parseJson<{ videoId?: unknown }>(request.body)?.videoId;
      if (typeof videoId !== "string")
        return send(
          response,
          400,
          "application/json",
          JSON.stringify({
            error: { code: 400, message: "Precondition check failed.", status: "FAILED_PRECONDITION" },
          }),
        );
      return send(response, 200, "application/json; charset=UTF-8", JSON.stringify(playerResponse(videoId)));
    }
    if (request.method === "GET" && url.pathname === "/watch")
      return send(
        response,
        200,
        "text/html; charset=utf-8",
        watchPage(playerResponse(url.searchParams.get("v") ?? "")),
      );
    if (request.method === "GET" && url.pathname === "/api/timedtext") {
      const track = transcripts.get(url.searchParams.get("v") ?? "");
      if (!track || track.lang !== url.searchParams.get("lang")) return send(response, 404, "text/html", "");
      return send(
        response,
        200,
        "text/xml; charset=UTF-8",
        track.format === "srv3" ? srv3(track.segments) : classic(track.segments),
      );
    }
    send(response, 404, "text/html", "<html><body>404 Not Found</body></html>");
  }

  function serveFeed(url: URL, response: ServerResponse): void {
    const channelId = url.searchParams.get("channel_id");
    if (!channelId) return send(response, 400, "text/html", "<html><body>Bad Request</body></html>");
    const videos = channels.get(channelId);
    if (!videos)
      return send(
        response,
        404,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><title>Error 404 (Not Found)!!1</title><p>The requested URL was not found on this server.</html>",
      );
    const latest = [...videos].sort((a, b) => b.publishedAt.localeCompare(a.publishedAt)).slice(0, FEED_VIDEOS);
    send(response, 200, "text/xml; charset=UTF-8", atomFeed(channelId, latest));
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
      const url = new URL(recorded.path, "http://emulator");
      const index = faults.findIndex((fault) => !fault.path || recorded.path.startsWith(fault.path));
      const fault = index >= 0 ? faults.splice(index, 1)[0] : undefined;
      const respond = () => {
        if (!fault || (fault.status === undefined && fault.body === undefined)) return route(recorded, url, res);
        if (fault.retryAfter !== undefined) res.setHeader("retry-after", String(fault.retryAfter));
        send(res, fault.status ?? 200, "text/xml; charset=UTF-8", fault.body ?? "");
      };
      if (fault?.delayMs) setTimeout(respond, fault.delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addChannel(channelId: string, videos: EmulatedVideo[]): void {
      channels.set(channelId, [...(channels.get(channelId) ?? []), ...videos]);
    },
    /** `null` makes a video whose captions are disabled; a video never set is unavailable. */
    setTranscript(
      videoId: string,
      segments: CaptionSegment[],
      options: { format: "classic" | "srv3"; lang?: string } | null,
    ): void {
      transcripts.set(videoId, options ? { segments, format: options.format, lang: options.lang ?? "en" } : null);
    },
    /** Turns YouTube's bot check on ("page" or "429") or off (null). */
    setBotCheck(mode: "page" | "429" | null): void {
      botCheck = mode;
    },
    /** The next `n` requests (matching `fault.path`, when given) get this answer instead. */
    failNext(n: number, fault: Fault): void {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export type YouTubeEmulator = Awaited<ReturnType<typeof startYouTubeEmulator>>;

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  response.end(body);
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function xml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function atomFeed(channelId: string, videos: EmulatedVideo[]): string {
  const channelUrl = `https://www.youtube.com/channel/${channelId}`;
  const author = `<author><name>Emulated Channel</name><uri>${channelUrl}</uri></author>`;
  const entries = videos.map(
    (video) => `
 <entry>
  <id>yt:video:${video.id}</id><yt:videoId>${video.id}</yt:videoId><yt:channelId>${channelId}</yt:channelId>
  <title>${xml(video.title)}</title>
  <link rel="alternate" href="https://www.youtube.com/watch?v=${video.id}"/>
  ${author}
  <published>${video.publishedAt}</published><updated>${video.publishedAt}</updated>
  <media:group>
   <media:title>${xml(video.title)}</media:title>
   <media:content url="https://www.youtube.com/v/${video.id}?version=3" type="application/x-shockwave-flash" width="640" height="390"/>
   <media:thumbnail url="https://i1.ytimg.com/vi/${video.id}/hqdefault.jpg" width="480" height="360"/>
   <media:description>${xml(video.description ?? "")}</media:description>
   <media:community><media:starRating count="12" average="5.00" min="1" max="5"/><media:statistics views="345"/></media:community>
  </media:group>
 </entry>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">
 <link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id=${channelId}"/>
 <id>yt:channel:${channelId}</id><yt:channelId>${channelId}</yt:channelId>
 <title>Emulated Channel</title>
 <link rel="alternate" href="${channelUrl}"/>
 ${author}
 <published>2015-01-01T00:00:00+00:00</published>${entries.join("")}
</feed>`;
}

/** The watch page: youtube-transcript looks for `"playabilityStatus":` and `var ytInitialPlayerResponse = {…};`. */
function watchPage(player: Record<string, unknown>): string {
  return `<!DOCTYPE html><html lang="en"><head><title>YouTube</title></head><body>
<script nonce="emulated">ytcfg.set({"INNERTUBE_API_KEY":"AIzaEmulatedKey","INNERTUBE_CLIENT_NAME":"WEB","INNERTUBE_CLIENT_VERSION":"2.20250101.00.00"});</script>
<script nonce="emulated">var ytInitialPlayerResponse = ${JSON.stringify(player)};var meta = document.createElement('meta');</script>
</body></html>`;
}

/** Classic timedtext: start and dur in seconds, entity-encoded text. */
function classic(segments: CaptionSegment[]): string {
  const lines = segments.map((s) => `<text start="${s.start}" dur="${s.duration}">${xml(s.text)}</text>`);
  return `<?xml version="1.0" encoding="utf-8" ?><transcript>${lines.join("")}</transcript>`;
}

/** srv3 timedtext: paragraphs with t and d in milliseconds, words in <s> elements. */
function srv3(segments: CaptionSegment[]): string {
  const paragraphs = segments.map((s) => {
    const words = s.text
      .split(" ")
      .map((word, i) => (i === 0 ? `<s ac="0">${xml(word)}</s>` : `<s t="${i * 120}" ac="0"> ${xml(word)}</s>`));
    return `<p t="${Math.round(s.start * 1000)}" d="${Math.round(s.duration * 1000)}" w="1">${words.join("")}</p>`;
  });
  return `<?xml version="1.0" encoding="utf-8" ?><timedtext format="3">
<head><ws id="0"/><wp id="0"/></head>
<body>
${paragraphs.join("\n")}
</body>
</timedtext>`;
}
