/**
 * Receives KIE's task callbacks (POST to the callBackUrl given at create).
 *
 * A callback is only a hint that a task may have finished: the body is
 * never trusted as the result. The tracker is told to poll that task now
 * and reads the outcome from record-info, which makes duplicates (KIE may
 * send the same taskId more than once) and forged bodies harmless. With a
 * webhook HMAC key configured, unsigned or badly signed requests are
 * refused anyway (NOTES.md: X-Webhook-Timestamp, X-Webhook-Signature).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCallbackBody, verifyCallbackSignature } from './client.js';

export const CALLBACK_PATH = '/kie/callback';
const MAX_BODY_BYTES = 256 * 1024;

export interface CallbackServerOptions {
  /** Interface to listen on; default 0.0.0.0 (KIE must reach it). */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** When set, requests must carry a valid signature made with this key. */
  hmacKey?: string | null;
  /** A task may have finished. Called after the answer is sent; must not throw. */
  onTask: (taskId: string) => void;
  logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

export interface CallbackServer {
  /** http://host:port/kie/callback as bound (behind a proxy, the public URL differs). */
  readonly url: string;
  close(): Promise<void>;
}

export type CallbackVerdict = { status: 200; taskId: string } | { status: 400 | 401 | 404 | 413; reason: string };

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('callback body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Decide one callback request: pure apart from reading its body. */
export async function judgeCallback(req: IncomingMessage, hmacKey: string | null | undefined): Promise<CallbackVerdict> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'POST' || path !== CALLBACK_PATH) return { status: 404, reason: 'not a callback route' };
  let text: string;
  try {
    text = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { status: 413, reason: error.message };
    throw error;
  }
  let taskId: string;
  try {
    taskId = parseCallbackBody(text).data.taskId;
  } catch {
    return { status: 400, reason: 'not a KIE callback body' };
  }
  if (hmacKey) {
    const signed = verifyCallbackSignature({
      taskId,
      timestamp: header(req, 'x-webhook-timestamp') ?? '',
      signature: header(req, 'x-webhook-signature') ?? '',
      key: hmacKey,
    });
    if (!signed) return { status: 401, reason: 'bad or missing webhook signature' };
  }
  return { status: 200, taskId };
}

export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const server: Server = createServer((req, res) => {
    judgeCallback(req, options.hmacKey)
      .then((verdict) => {
        res.writeHead(verdict.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(verdict.status === 200 ? { status: 'received' } : { error: verdict.reason }));
        if (verdict.status === 200) {
          options.logger?.debug({ taskId: verdict.taskId }, 'KIE callback received');
          options.onTask(verdict.taskId);
        } else {
          options.logger?.warn({ status: verdict.status, reason: verdict.reason }, 'KIE callback refused');
        }
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '0.0.0.0', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}${CALLBACK_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
