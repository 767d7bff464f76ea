/**
 * The node:http plumbing both local provider servers (KIE's and APIXO's)
 * share: reading a bounded body, checking a Bearer key without keeping it,
 * listening, streaming a generated file, waiting out a "slow" fault that a
 * close cuts short, and closing. What each answers stays in its own folder.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Read the whole body as text; null if it exceeds `limit` bytes (the rest is drained). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? null : Buffer.concat(chunks).toString('utf8');
}

/** Whether a Bearer token is accepted: any token when `apiKey` is null, else only that key (compared as hashes, in constant time). */
export function keyChecker(apiKey: string | null | undefined): (bearer: string | null) => boolean {
  if (apiKey === '') throw new RangeError('apiKey must be non-empty (or null to accept any key)');
  const expected = apiKey ? sha256(apiKey) : null;
  return (bearer) => bearer !== null && (expected === null || timingSafeEqual(sha256(bearer), expected));
}

/** Listen on `host:port` (0 = any free port); resolves with the server's own URL. */
export async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
}

/** Wait `ms` of real time; false if `signal` (the simulator closing) ended the wait first. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A 200 with a generated file; `headers` replace the defaults (content-length omitted for a chunked answer). */
export async function streamFile(
  res: ServerResponse,
  file: { contentType: string; size: number; chunks: () => Generator<Buffer> },
  o: { headOnly: boolean; chunked?: boolean; headers?: Record<string, string> },
): Promise<void> {
  res.writeHead(200, { 'content-type': file.contentType, ...(o.chunked ? {} : { 'content-length': file.size }), ...o.headers });
  if (o.headOnly) {
    res.end();
    return;
  }
  await pipeline(Readable.from(file.chunks(), { objectMode: false }), res).catch(() => res.destroy());
}

/** Stop: abort waits in progress, stop the callback timer, close the server and its open connections. */
export function closeServer(server: Server, shutdown: AbortController, timer: NodeJS.Timeout | null): Promise<void> {
  return new Promise<void>((resolve) => {
    shutdown.abort();
    if (timer) clearInterval(timer);
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Answer with a body of `type` (JSON unless told), its length given. */
export function send(res: ServerResponse, status: number, body: string, type = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export const sendJson = (res: ServerResponse, status: number, body: unknown): void => send(res, status, JSON.stringify(body));
