/**
 * Fetches a result file (a KIE image or video) so it can be re-hosted as a
 * Discord attachment: KIE deletes its files after about two weeks.
 *
 * The body is streamed and counted, so an oversized file costs at most
 * `maxBytes` of memory and is abandoned as soon as it crosses the limit; the
 * caller links it instead. A Content-Length over the limit is refused before
 * any byte of the body is read.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch, type Dispatcher } from 'undici';

export interface DownloadOptions {
  /** Largest body accepted, in bytes (Discord's attachment limit). */
  maxBytes: number;
  /** Whole download (headers and body) must finish within this. */
  timeoutMs: number;
  /** Lets the caller give up early (shutdown). */
  signal?: AbortSignal;
  /** undici dispatcher (tests, proxies). Default: one that refuses private addresses (see safeDispatcher). */
  dispatcher?: Dispatcher;
  /**
   * Origins (`http://127.0.0.1:4010`) trusted as configured by the operator:
   * the simulator or a KIE base URL on loopback. Only these may be http or
   * resolve to a loopback/private address; every other URL must be https to
   * a public address.
   */
  trustedOrigins?: readonly string[];
}

/** Redirects followed at most; each target is checked like the first URL. */
export const MAX_REDIRECTS = 3;

/** Addresses a result URL must never reach (unless its origin is trusted): loopback, private, link-local, CGNAT, unspecified. */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is one a result URL may not reach. IPv4-mapped IPv6 is checked as IPv4. */
export function isBlockedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A dispatcher whose DNS lookups refuse private, loopback and link-local
 * addresses: the check happens on the address actually connected to, so a
 * name that resolves differently a second time (DNS rebinding) gains nothing.
 */
export function safeDispatcher(): Dispatcher {
  return new Agent({
    connect: {
      lookup: (hostname, options, callback) => {
        dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) return callback(err, '', 0);
          const list = (Array.isArray(addresses) ? addresses : [addresses]) as LookupAddress[];
          const bad = list.find((a) => isBlockedAddress(a.address));
          if (bad || list.length === 0) {
            return callback(Object.assign(new Error(`${hostname} resolves to a private or loopback address`), { code: 'EBLOCKEDADDRESS' }), '', 0);
          }
          if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
          callback(null, list[0]!.address, list[0]!.family);
        });
      },
    },
  });
}

let sharedSafeDispatcher: Dispatcher | null = null;
/** One connection pool for all result downloads (created on first use). */
function defaultDispatcher(): Dispatcher {
  return (sharedSafeDispatcher ??= safeDispatcher());
}

/**
 * Why `raw` may not be fetched, or null when it may: https only (http only
 * for a trusted origin), and a literal IP host must be public unless trusted.
 * Host names are checked after resolution by the dispatcher.
 */
export function urlRefusal(raw: string, trustedOrigins: readonly string[] = []): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  const trusted = trustedOrigins.includes(url.origin);
  if (trusted) return null;
  if (url.protocol !== 'https:') return `${url.protocol.replace(':', '')} URLs are not fetched (https only)`;
  if (url.username || url.password) return 'URLs with credentials are not fetched';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0 && isBlockedAddress(host)) return 'private or loopback address';
  if (/^localhost$|\.localhost$/i.test(host)) return 'private or loopback address';
  return null;
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

/** The URL refused before any request (scheme, address, redirect). */
export class UnsafeUrlError extends DownloadError {
  constructor(url: string, reason: string) {
    super(reason, url);
    this.name = 'UnsafeUrlError';
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
    const trusted = opts.trustedOrigins ?? [];
    let current = url;
    let res: Awaited<ReturnType<typeof fetch>>;
    for (let hop = 0; ; hop++) {
      const refusal = urlRefusal(current, trusted);
      if (refusal) throw new UnsafeUrlError(redactUrl(current), refusal);
      const isTrusted = trusted.includes(new URL(current).origin);
      const dispatcher = opts.dispatcher ?? (isTrusted ? undefined : defaultDispatcher());
      res = await fetch(current, {
        signal,
        redirect: 'manual',
        ...(dispatcher ? { dispatcher } : {}),
      });
      if (res.status < 300 || res.status >= 400 || res.status === 304) break;
      const location = res.headers.get('location');
      await res.body?.cancel().catch(() => {});
      if (!location) throw new DownloadFailedError(shown, res.status, `HTTP ${res.status} without a Location`);
      if (hop >= MAX_REDIRECTS) throw new UnsafeUrlError(shown, `more than ${MAX_REDIRECTS} redirects`);
      current = new URL(location, current).toString();
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new DownloadFailedError(shown, res.status, `HTTP ${res.status}`);
    }
    const mediaType = mediaTypeOf(res.headers.get('content-type'));
    if (!mediaType || !/^(image|video)\//.test(mediaType)) {
      await res.body?.cancel().catch(() => {});
      throw new UnsafeUrlError(shown, `not an image or video (${mediaType ?? 'no content type'})`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new TooLargeError(shown, declared, opts.maxBytes, true);
    }
    const data = await readCapped(res.body, opts.maxBytes, shown);
    return { data, contentType: mediaType, filename: filenameFor(url, mediaType) };
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
  if (cause instanceof Error && cause.message.includes('private or loopback')) return cause.message;
  const code = cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : null;
  return code ? `network error (${code})` : error.message || 'network error';
}
