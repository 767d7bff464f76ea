import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isBlockedAddress,
  UnsafeUrlError,
  DownloadFailedError,
  DownloadTimeoutError,
  TooLargeError,
  downloadResult,
  filenameFor,
  formatBytes,
  mediaTypeOf,
  redactUrl,
} from '../../src/media/download.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]);

/** Routes of the local file server; each test picks one by path. */
const routes: Record<string, Handler> = {
  '/img/abc_0.png': (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
    res.end(PNG);
  },
  '/noext': (_req, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4; codecs=avc1' });
    res.end(Buffer.alloc(10));
  },
  '/notype.bin': (_req, res) => {
    res.writeHead(200);
    res.end(Buffer.alloc(3));
  },
  '/declared-big.png': (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': 5000 });
    res.end(Buffer.alloc(5000));
  },
  /** No Content-Length: chunked, and it keeps going; the client must stop reading by itself. */
  '/stream-big.png': (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.write(Buffer.alloc(600));
    res.write(Buffer.alloc(600));
    // never ends: only the size check can finish this download
  },
  '/missing.png': (_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('nope');
  },
  '/broken': (_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html>bad gateway</html>');
  },
  '/hang': () => {
    // never answers
  },
  '/redirect-private': (_req, res) => {
    res.writeHead(302, { location: 'https://10.0.0.1/x.png' });
    res.end();
  },
  '/redirect': (_req, res) => {
    res.writeHead(302, { location: '/img/abc_0.png' });
    res.end();
  },
};

let server: Server;
let base: string;
const open = new Set<ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    (routes[path] ?? ((_q, r) => (r.writeHead(404), r.end())))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of open) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The test server is on loopback over http: trusted as a configured simulator would be. */
const trusted = () => ({ trustedOrigins: [base] });
const optsOf = () => ({ maxBytes: 1000, timeoutMs: 5000, ...trusted() });

describe('downloadResult', () => {
  it('returns the bytes, the media type and a file name from the URL', async () => {
    const got = await downloadResult(`${base}/img/abc_0.png?sig=secret`, optsOf());
    expect(got.data.equals(PNG)).toBe(true);
    expect(got.contentType).toBe('image/png');
    expect(got.filename).toBe('abc_0.png');
  });

  it('adds the extension of the content type when the URL has none', async () => {
    const got = await downloadResult(`${base}/noext`, optsOf());
    expect(got.contentType).toBe('video/mp4');
    expect(got.filename).toBe('noext.mp4');
  });

  it('refuses a body that is not an image or video (no content type)', async () => {
    const err = await downloadResult(`${base}/notype.bin`, optsOf()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeUrlError);
    expect((err as Error).message).toContain('not an image or video');
  });

  it('follows redirects', async () => {
    const got = await downloadResult(`${base}/redirect`, optsOf());
    expect(got.filename).toBe('redirect.png');
    expect(got.data.length).toBe(PNG.length);
  });

  it('refuses a declared Content-Length over the limit with the exact size', async () => {
    const err = await downloadResult(`${base}/declared-big.png`, optsOf()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLargeError);
    expect(err).toMatchObject({ size: 5000, limit: 1000, exact: true });
  });

  it('stops a streamed body as soon as it passes the limit', async () => {
    const err = await downloadResult(`${base}/stream-big.png`, optsOf()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLargeError);
    const tooLarge = err as TooLargeError;
    expect(tooLarge.exact).toBe(false);
    expect(tooLarge.size).toBeGreaterThan(1000);
    expect(tooLarge.message).toBe('larger than the 1000 B limit');
  });

  it('reports non-2xx answers with their status', async () => {
    const err = await downloadResult(`${base}/missing.png`, optsOf()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(err).toMatchObject({ status: 404, message: 'HTTP 404' });
    await expect(downloadResult(`${base}/broken`, optsOf())).rejects.toMatchObject({ status: 502 });
  });

  it('times out a server that never answers', async () => {
    const err = await downloadResult(`${base}/hang`, { maxBytes: 1000, timeoutMs: 50, ...trusted() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadTimeoutError);
    expect(err).toMatchObject({ timeoutMs: 50 });
  });

  it('reports a network failure without a status', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const err = await downloadResult(`http://127.0.0.1:${port}/x.png`, { ...optsOf(), trustedOrigins: [`http://127.0.0.1:${port}`] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadFailedError);
    expect(err).toMatchObject({ status: null, message: 'network error (ECONNREFUSED)' });
  });

  it('honours the caller’s abort signal', async () => {
    const controller = new AbortController();
    const pending = downloadResult(`${base}/hang`, { ...optsOf(), signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'DownloadFailedError', message: 'aborted' });
  });

  it('never puts the query string in an error', async () => {
    const err = (await downloadResult(`${base}/missing.png?token=s3cret`, optsOf()).catch((e: unknown) => e)) as Error & {
      url: string;
    };
    expect(err.url).toBe(`${base}/missing.png`);
    expect(JSON.stringify({ ...err, message: err.message })).not.toContain('s3cret');
  });
});

describe('helpers', () => {
  it('formats sizes the way the linked-because text shows them', () => {
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MB');
    expect(formatBytes(Math.round(23.4 * 1024 * 1024))).toBe('23.4 MB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
  });

  it('names files safely and matches the extension to the content type', () => {
    expect(filenameFor('https://cdn.kie.ai/a/b/x_1.png', 'image/png')).toBe('x_1.png');
    expect(filenameFor('https://cdn.kie.ai/a/b/x_1.jpeg', 'image/jpeg')).toBe('x_1.jpeg');
    expect(filenameFor('https://cdn.kie.ai/a/b/x_1.png', 'image/webp')).toBe('x_1.webp');
    expect(filenameFor('https://cdn.kie.ai/a/my%20file!.png', 'image/png')).toBe('my_file_.png');
    expect(filenameFor('https://cdn.kie.ai/', 'video/mp4')).toBe('result.mp4');
    expect(filenameFor('not a url', null)).toBe('result');
    expect(filenameFor('https://x/..hidden', null)).toBe('hidden');
  });

  it('reads media types and redacts URLs', () => {
    expect(mediaTypeOf('Image/PNG; charset=binary')).toBe('image/png');
    expect(mediaTypeOf('')).toBeNull();
    expect(mediaTypeOf(null)).toBeNull();
    expect(redactUrl('https://a.b/c/d.png?x=1#y')).toBe('https://a.b/c/d.png');
  });
});

describe('result URLs that are not fetched', () => {
  it.each([
    ['plain http to a public host', 'http://example.com/a.png', 'https only'],
    ['a loopback IP', 'https://127.0.0.1/a.png', 'private or loopback'],
    ['a private IP', 'https://10.1.2.3/a.png', 'private or loopback'],
    ['a link-local IP (cloud metadata)', 'https://169.254.169.254/latest/meta-data', 'private or loopback'],
    ['IPv6 loopback', 'https://[::1]/a.png', 'private or loopback'],
    ['localhost', 'https://localhost/a.png', 'private or loopback'],
    ['an untrusted loopback port over http', 'http://127.0.0.1:1/a.png', 'https only'],
  ])('refuses %s before any request', async (_what, url, reason) => {
    const err = await downloadResult(url, { maxBytes: 1000, timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeUrlError);
    expect((err as Error).message).toContain(reason);
  });

  it('refuses a redirect to a private address, checking every hop', async () => {
    const err = await downloadResult(`${base}/redirect-private`, optsOf()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeUrlError);
  });

  it('classifies addresses as the DNS check does', () => {
    expect(isBlockedAddress('127.0.0.1')).toBe(true);
    expect(isBlockedAddress('::ffff:10.0.0.1')).toBe(true);
    expect(isBlockedAddress('93.184.216.34')).toBe(false);
  });
});
