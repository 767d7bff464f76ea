/**
 * The process's one HTTP port (HTTP_PORT): health and readiness probes, the
 * KIE callback path, and room for more routes (e.g. /metrics). Plain
 * node:http: a handful of exact routes needs no framework.
 *
 * A route is a function of the request that returns a response; the server
 * only matches method + path, writes the answer and turns a thrown error
 * into a 500. That keeps every route testable without a socket.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpResponse {
  status: number;
  /** Sent as JSON unless it is a string (then text/plain). */
  body: unknown;
  headers?: Record<string, string>;
  /** Runs after the answer is written (e.g. tell the tracker about a callback). */
  after?: () => void;
}

export type RouteHandler = (req: IncomingMessage) => Promise<HttpResponse> | HttpResponse;

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle: RouteHandler;
}

/** Answer one request from a route table: 404 for an unknown path, 405 for a known path with another method. */
export async function dispatch(routes: readonly Route[], req: IncomingMessage): Promise<HttpResponse> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const onPath = routes.filter((r) => r.path === path);
  if (onPath.length === 0) return { status: 404, body: { error: 'not found' } };
  const route = onPath.find((r) => r.method === req.method || (r.method === 'GET' && req.method === 'HEAD'));
  if (!route) return { status: 405, body: { error: 'method not allowed' }, headers: { allow: onPath.map((r) => r.method).join(', ') } };
  return route.handle(req);
}

export interface HttpServerOptions {
  /** Interface to listen on; default 0.0.0.0 (every interface, what a container needs). */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  routes: readonly Route[];
}

export interface HttpServer {
  /** http://host:port as bound (0.0.0.0 shown as 127.0.0.1, which reaches it). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export class HttpListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string | undefined,
  ) {
    const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : (code ?? 'unknown error');
    super(`could not listen on ${host}:${port}: ${why}`);
    this.name = 'HttpListenError';
  }
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    dispatch(options.routes, req)
      .then((answer) => {
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        const type = typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
        res.writeHead(answer.status, { 'content-type': type, 'cache-control': 'no-store', ...answer.headers });
        res.end(req.method === 'HEAD' ? undefined : text);
        answer.after?.();
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error' }));
      });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  const host = options.host ?? '0.0.0.0';
  const port = options.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new HttpListenError(host, port, err.code)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.address === '0.0.0.0' || bound.address === '::' ? '127.0.0.1' : bound.address.includes(':') ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}`,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
