/**
 * Fetches a result file (a KIE image or video) so it can be re-hosted as a
 * Discord attachment: KIE deletes its files after about two weeks.
 *
 * The body is streamed and counted, so an oversized file costs at most
 * `maxBytes` of memory and is abandoned as soon as it crosses the limit; the
 * caller links it instead. A Content-Length over the limit is refused before
 * any byte of the body is read.
 */
import { fetch, type Dispatcher } from 'undici';

export interface DownloadOptions {
  /** Largest body accepted, in bytes (Discord's attachment limit). */
  maxBytes: number;
  /** Whole download (headers and body) must finish within this. */
  timeoutMs: number;
  /** Lets the caller give up early (shutdown). */
  signal?: AbortSignal;
  /** undici dispatcher (tests, proxies). */
  dispatcher?: Dispatcher;
}

export interface Downloaded {
  data: Buffer;
  /** The media type without parameters; application/octet-stream when the server sent none. */
  contentType: string;
  /** A safe file name for the attachment, with an extension that matches contentType. */
  filename: string;
}

/** The signature the presenter depends on, so tests can pass a stand-in. */
export type Download = (url: string, opts: DownloadOptions) => Promise<Downloaded>;

/** Base of every download failure; `url` has its query string removed (signed URLs). */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** The file is larger than maxBytes. `size` is exact when `exact`, else a lower bound. */
export class TooLargeError extends DownloadError {
  constructor(
    url: string,
    readonly size: number,
    readonly limit: number,
    readonly exact: boolean,
  ) {
    super(exact ? `${formatBytes(size)} exceeds the ${formatBytes(limit)} limit` : `larger than the ${formatBytes(limit)} limit`, url);
    this.name = 'TooLargeError';
  }
}

export class DownloadTimeoutError extends DownloadError {
  constructor(
    url: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms`, url);
    this.name = 'DownloadTimeoutError';
  }
}

/** Non-2xx answer (`status` set), a network failure or an abort by the caller (`status` null). */
export class DownloadFailedError extends DownloadError {
  constructor(
    url: string,
    readonly status: number | null,
    detail: string,
  ) {
    super(detail, url);
    this.name = 'DownloadFailedError';
  }
}

/** "23.4 MB", "10 MB", "512 KB": decimal-looking units over binary sizes, as Discord shows limits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const rounded = unit === 0 ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${rounded} ${units[unit]}`;
}

/** The URL without query or fragment: result URLs may be signed, and errors end up in logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url.split(/[?#]/)[0] ?? url;
  }
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
};
/** Extensions that already say the same thing as a content type. */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = { jpg: ['jpg', 'jpeg'], mov: ['mov', 'qt'] };

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaTypeOf(header: string | null | undefined): string | null {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type ? type : null;
}

/**
 * A file name for Discord from the URL's last path segment and the content
 * type: characters Discord would mangle become '_', and the extension is made
 * to match the content type (Discord previews by extension).
 */
export function filenameFor(url: string, contentType: string | null, fallback = 'result'): string {
  let segment = '';
  try {
    segment = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    segment = '';
  }
  let name = segment.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 100);
  if (!name) name = fallback;
  const wanted = contentType ? EXTENSIONS[mediaTypeOf(contentType) ?? ''] : undefined;
  if (!wanted) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  if ((SYNONYMS[wanted] ?? [wanted]).includes(ext)) return name;
  return `${dot > 0 ? name.slice(0, dot) : name}.${wanted}`;
}

/**
 * GET `url` into memory, within `maxBytes` and `timeoutMs`.
 * Throws TooLargeError, DownloadTimeoutError or DownloadFailedError; never
 * anything with the query string of the URL in it.
 */
export async function downloadResult(url: string, opts: DownloadOptions): Promise<Downloaded> {
  const shown = redactUrl(url);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout.signal, opts.signal]) : timeout.signal;
  /** Whichever way the request ends, the reason is ours to name. */
  const failure = (error: unknown): DownloadError => {
    if (error instanceof DownloadError) return error;
    if (timeout.signal.aborted) return new DownloadTimeoutError(shown, opts.timeoutMs);
    if (opts.signal?.aborted) return new DownloadFailedError(shown, null, 'aborted');
    return new DownloadFailedError(shown, null, networkDetail(error));
  };
  try {
    const res = await fetch(url, {
      signal,
      redirect: 'follow',
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new DownloadFailedError(shown, res.status, `HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new TooLargeError(shown, declared, opts.maxBytes, true);
    }
    const data = await readCapped(res.body, opts.maxBytes, shown);
    const contentType = mediaTypeOf(res.headers.get('content-type')) ?? 'application/octet-stream';
    return { data, contentType, filename: filenameFor(url, contentType) };
  } catch (error) {
    throw failure(error);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a body stream, cancelling it the moment it grows past `maxBytes`. */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number, shown: string): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new TooLargeError(shown, total, maxBytes, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** undici hides the useful part (ECONNREFUSED, …) in `cause`. */
function networkDetail(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause = error.cause;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : null;
  return code ? `network error (${code})` : error.message || 'network error';
}
