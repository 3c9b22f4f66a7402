/** @module youtube — a channel's newest videos (its Atom feed) and a video's transcript (youtube-transcript). */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Logger } from "pino";
import {
  fetchTranscript,
  YoutubeTranscriptDisabledError,
  YoutubeTranscriptError,
  YoutubeTranscriptNotAvailableError,
  YoutubeTranscriptNotAvailableLanguageError,
  YoutubeTranscriptTooManyRequestError,
  YoutubeTranscriptVideoUnavailableError,
} from "youtube-transcript";
import { z } from "zod";
import { errorMessage, NonRetryableError, ServiceError } from "../../errors.ts";
import type { Env, Sources, TranscriptSegment, Video } from "../../types.ts";
import { fetchWithRetry } from "../http.ts";
import { BODY_LIMITS, readBodyLimited } from "../http-body.ts";

const SERVICE = "YouTube";
const DEFAULT_BASE_URL = "https://www.youtube.com";
/** The test youtube-transcript itself uses to tell srv3 (milliseconds) from classic XML (seconds). */
const SRV3_PARAGRAPH = /<p\s+t="\d+"\s+d="\d+"/;
/**
 * What YouTube serves a server it suspects instead of the watch page: "Sign in to confirm you're not
 * a bot" (LOGIN_REQUIRED with that reason; "confirm your age" is the video's own, final), a
 * reCAPTCHA, or a consent page. youtube-transcript would read each as
 * "captions disabled" or "video unavailable", which the blog skill stores as a final answer.
 */
const BOT_CHECK = [
  /confirm you(?:’|'|&#39;|\\u2019)re not a bot/i,
  /class="g-recaptcha"/,
  /unusual traffic from your computer network/i,
  /action="https:\/\/consent\.youtube\.com/,
];

/** The video has no captions (disabled, none in the language asked for, or the video is gone). */
export class NoTranscriptError extends NonRetryableError {
  /** Not exported from "sundial" (this module loads youtube-transcript): skills test `errorCode(error) === "no_transcript"`. */
  constructor(
    readonly videoId: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${SERVICE}: no transcript for video ${videoId}: ${reason}`, { code: "no_transcript", cause });
  }
}

export interface YouTubeOptions {
  env: Env;
  signal: AbortSignal;
  log: Logger;
  fetch?: typeof fetch;
  /** Further attempts after a 429, 5xx or network error; default 3. */
  retries?: number;
}

export function createYouTube(options: YouTubeOptions): Sources["youtube"] {
  const configured = options.env.YOUTUBE_BASE_URL?.trim();
  const base = configured ? new URL(configured) : null;
  const feedRoot = (configured || DEFAULT_BASE_URL).replace(/\/+$/, "");
  const innerFetch = options.fetch ?? fetch;

  return {
    async channelVideos(channelId) {
      const url = `${feedRoot}/feeds/videos.xml?channel_id=${encodeURIComponent(channelId)}`;
      options.log.debug({ channelId }, "fetching YouTube channel feed");
      let response: Response;
      try {
        response = await fetchWithRetry(
          SERVICE,
          url,
          {},
          { signal: options.signal, fetch: innerFetch, retries: options.retries },
        );
      } catch (error) {
        if (error instanceof ServiceError && error.status === 404) {
          throw new ServiceError({
            service: SERVICE,
            message: `channel ${channelId} not found (its feed answered 404); check the channel id`,
            status: 404,
          });
        }
        throw error;
      }
      const body = await readBodyLimited(response, {
        maxBytes: BODY_LIMITS.feed,
        service: SERVICE,
        what: `the feed of channel ${channelId}`,
      });
      return parseChannelFeed(new TextDecoder().decode(body), channelId);
    },

    async transcript(videoId, lang) {
      const caption = { inMilliseconds: false };
      const youtubeFetch = rewritingFetch(
        videoId,
        base,
        { fetch: innerFetch, retries: options.retries },
        options.signal,
        (body) => {
          caption.inMilliseconds = SRV3_PARAGRAPH.test(body);
        },
      );
      options.log.debug({ videoId, lang }, "fetching YouTube transcript");
      let raw: { text: string; offset: number; duration: number }[];
      try {
        raw = await fetchTranscript(videoId, { fetch: youtubeFetch, ...(lang ? { lang } : {}) });
      } catch (error) {
        if (options.signal.aborted) throw options.signal.reason;
        throw transcriptError(error, videoId);
      }
      const scale = caption.inMilliseconds ? 1 / 1000 : 1;
      const segments: TranscriptSegment[] = raw
        .map((item) => ({
          text: item.text.replace(/\s+/g, " ").trim(),
          start: seconds(item.offset * scale),
          duration: seconds(item.duration * scale),
        }))
        .filter((segment) => segment.text !== "");
      if (segments.length === 0) {
        throw new ServiceError({
          service: SERVICE,
          message: `the caption track of video ${videoId} held no segments in a format youtube-transcript understands`,
        });
      }
      return segments;
    },
  };
}

function seconds(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * youtube-transcript fetches fixed www.youtube.com URLs and refuses caption hosts outside
 * `*.youtube.com`, so the host can only be changed here, after its checks: every YouTube URL goes to
 * the configured base instead, with retries. Caption bodies are read on the way to learn their format.
 */
function rewritingFetch(
  videoId: string,
  base: URL | null,
  inner: { fetch: typeof fetch; retries?: number },
  signal: AbortSignal,
  onCaptions: (body: string) => void,
): typeof fetch {
  return async (input, init) => {
    const original = new URL(input instanceof Request ? input.url : String(input));
    const target = base && isYouTubeHost(original.hostname) ? rebase(original, base) : original.href;
    const response = await fetchWithRetry(SERVICE, target, init ?? {}, { signal, ...inner });
    const page = original.pathname === "/watch" || original.pathname.startsWith("/youtubei/");
    // Every body is read here, with a limit, so youtube-transcript never reads one without.
    const what = page ? `the page of video ${videoId}` : `the captions of video ${videoId}`;
    const body = new TextDecoder().decode(
      await readBodyLimited(response, { maxBytes: BODY_LIMITS.page, service: SERVICE, what }),
    );
    if (
      original.pathname === "/watch" &&
      (isConsentHost(response.url) || BOT_CHECK.some((pattern) => pattern.test(body)))
    ) {
      // Retryable: the check is about this server's address at this time, not about the video.
      throw new ServiceError({
        service: SERVICE,
        message: `answered the transcript request for video ${videoId} with its bot check ("Sign in to confirm you're not a bot", a captcha or a consent page) instead of the video; YouTube does this to many servers' addresses: the run is retried later, and if it persists, run Sundial from another network`,
        status: 429,
        retryable: true,
      });
    }
    if (!page) onCaptions(body);
    return new Response(page ? body : linearCaptions(body), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * youtube-transcript reads srv3 paragraphs with a lazy `<p …>([\s\S]*?)</p>` regex: every opener
 * with no `</p>` after it scans the rest of the body, quadratic on a track full of unclosed `<p`.
 * Cut after the last `</p>`: each opener left then stops at the next closer, and the scan is linear.
 */
function linearCaptions(body: string): string {
  if (!SRV3_PARAGRAPH.test(body)) return body;
  const last = body.lastIndexOf("</p>");
  return last < 0 ? "" : body.slice(0, last + 4);
}

function isConsentHost(url: string): boolean {
  try {
    return new URL(url).hostname.startsWith("consent.");
  } catch {
    return false;
  }
}

function isYouTubeHost(hostname: string): boolean {
  return hostname === "youtube.com" || hostname.endsWith(".youtube.com");
}

function rebase(url: URL, base: URL): string {
  const prefix = base.pathname.replace(/\/+$/, "");
  return `${base.origin}${prefix}${url.pathname}${url.search}`;
}

function transcriptError(error: unknown, videoId: string): Error {
  if (error instanceof ServiceError || error instanceof NonRetryableError) return error;
  const cause = errorMessage(error).replace(/^\[YoutubeTranscript\]\s*🚨?\s*/u, "");
  if (error instanceof YoutubeTranscriptDisabledError || error instanceof YoutubeTranscriptNotAvailableError) {
    return new NoTranscriptError(videoId, `captions are disabled or not available (${cause})`, error);
  }
  if (error instanceof YoutubeTranscriptNotAvailableLanguageError) return new NoTranscriptError(videoId, cause, error);
  if (error instanceof YoutubeTranscriptVideoUnavailableError)
    return new NoTranscriptError(videoId, `the video is unavailable (${cause})`, error);
  if (error instanceof YoutubeTranscriptTooManyRequestError)
    return new ServiceError({
      service: SERVICE,
      message: `rate limited while fetching the transcript of ${videoId}: ${cause}`,
      status: 429,
      retryable: true,
      cause: error,
    });
  if (error instanceof YoutubeTranscriptError)
    return new ServiceError({ service: SERVICE, message: `transcript of video ${videoId}: ${cause}`, cause: error });
  return new ServiceError({
    service: SERVICE,
    message: `transcript of video ${videoId} failed: ${cause}`,
    cause: error,
  });
}

// ─── The channel feed ────────────────────────────────────────────────────────────────────────────

const entrySchema = z.object({
  "yt:videoId": z.string().min(1),
  "yt:channelId": z.string().optional(),
  title: z.string().default(""),
  published: z.string().refine((value) => !Number.isNaN(Date.parse(value)), "is not a date"),
  link: z.array(z.object({ "@_rel": z.string().optional(), "@_href": z.string() })).default([]),
  "media:group": z.object({ "media:description": z.string().optional() }).optional(),
});

const feedSchema = z.object({ feed: z.object({ entry: z.array(entrySchema).default([]) }) });

/** Values stay strings (a title "1984" is not a number); `entry` and `link` are always lists. */
const feedParser = (): XMLParser =>
  new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    parseTagValue: false,
    isArray: (name) => name === "entry" || name === "link",
  });

export function parseChannelFeed(xml: string, channelId: string): Video[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new ServiceError({
      service: SERVICE,
      message: `feed of channel ${channelId} is not valid XML (line ${valid.err.line}: ${valid.err.msg})`,
    });
  }
  const parsed = feedSchema.safeParse(feedParser().parse(xml));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".")}: ${issue.message}` : "unexpected shape";
    throw new ServiceError({
      service: SERVICE,
      message: `feed of channel ${channelId} is not a YouTube Atom feed (${where})`,
    });
  }
  const videos = parsed.data.feed.entry.map((entry): Video => {
    const id = entry["yt:videoId"];
    const link = entry.link.find((candidate) => (candidate["@_rel"] ?? "alternate") === "alternate");
    const description = entry["media:group"]?.["media:description"];
    return {
      id,
      channelId: entry["yt:channelId"] ?? channelId,
      title: entry.title,
      url: link?.["@_href"] ?? `${DEFAULT_BASE_URL}/watch?v=${id}`,
      publishedAt: new Date(entry.published).toISOString(),
      ...(description ? { description } : {}),
    };
  });
  return videos.sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));
}
