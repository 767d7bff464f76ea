/**
 * Receives KIE's task callbacks (POST to the callBackUrl given at create).
 *
 * A callback is only a hint that a task may have finished: the body is
 * never trusted as the result. The tracker is told to poll that task now
 * and reads the outcome from record-info, which makes duplicates (KIE may
 * send the same taskId more than once) and forged bodies harmless. With a
 * webhook HMAC key configured, unsigned or badly signed requests are
 * refused anyway (NOTES.md: X-Webhook-Timestamp, X-Webhook-Signature), and
 * so are signed ones whose timestamp is more than 5 minutes from now (a
 * replayed request).
 *
 * `callbackRoute` is the route on the process's HTTP port (src/http/);
 * `startCallbackServer` runs it alone on its own port (tests, the bench).
 */
import type { IncomingMessage } from 'node:http';
import { startHttpServer, type HttpResponse, type Route } from '../../http/server.js';
import { parseCallbackBody, verifyCallbackSignature } from './callbacks.js';

export const CALLBACK_PATH = '/kie/callback';
const MAX_BODY_BYTES = 256 * 1024;
/** A signed callback's timestamp may differ from our clock by at most this. */
export const MAX_CALLBACK_SKEW_MS = 5 * 60 * 1000;
/** At most one "callback refused" log line per this interval; the rest are counted into it. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

export interface CallbackLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface CallbackRouteOptions {
  /** When set, requests must carry a valid, fresh signature made with this key. */
  hmacKey?: string | null;
  /** A task may have finished. Called after the answer is sent; must not throw. */
  onTask: (taskId: string) => void;
  logger?: CallbackLogger;
  /** The clock signed timestamps are judged against (ms); default Date.now. */
  now?: () => number;
}

export interface CallbackServerOptions extends CallbackRouteOptions {
  /** Interface to listen on; default 0.0.0.0 (KIE must reach it). */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
}

export interface CallbackServer {
  /** http://host:port/kie/callback as bound (behind a proxy, the public URL differs). */
  readonly url: string;
  close(): Promise<void>;
}

export type CallbackVerdict = { status: 200; taskId: string } | { status: 400 | 401 | 413; reason: string };

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

/** KIE's timestamp is in seconds; accept milliseconds too rather than guess wrong. */
function timestampMs(text: string): number | null {
  if (!/^\d{1,16}$/.test(text.trim())) return null;
  const n = Number(text);
  return n < 1e11 ? n * 1000 : n;
}

/** Decide one callback request: pure apart from reading its body. */
export async function judgeCallback(req: IncomingMessage, hmacKey: string | null | undefined, now: () => number = Date.now): Promise<CallbackVerdict> {
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
    const timestamp = header(req, 'x-webhook-timestamp') ?? '';
    const signed = verifyCallbackSignature({ taskId, timestamp, signature: header(req, 'x-webhook-signature') ?? '', key: hmacKey });
    if (!signed) return { status: 401, reason: 'bad or missing webhook signature' };
    const at = timestampMs(timestamp);
    if (at === null || Math.abs(now() - at) > MAX_CALLBACK_SKEW_MS) return { status: 401, reason: 'webhook timestamp more than 5 minutes from now (replayed?)' };
  }
  return { status: 200, taskId };
}

/**
 * Logs refusals without letting a flood of bad requests flood the log: the
 * first refusal in an interval is logged at once, the others are counted and
 * reported with the next logged one.
 */
export function refusalLogger(logger: CallbackLogger | undefined, now: () => number = Date.now, intervalMs = REFUSAL_LOG_INTERVAL_MS) {
  let lastAt = -Infinity;
  let suppressed = 0;
  return (status: number, reason: string): void => {
    if (!logger) return;
    const t = now();
    if (t - lastAt < intervalMs) {
      suppressed += 1;
      return;
    }
    lastAt = t;
    logger.warn({ status, reason, ...(suppressed ? { suppressedSinceLast: suppressed } : {}) }, 'KIE callback refused');
    suppressed = 0;
  };
}

export function callbackRoute(options: CallbackRouteOptions): Route {
  const logRefusal = refusalLogger(options.logger);
  return {
    method: 'POST',
    path: CALLBACK_PATH,
    handle: async (req): Promise<HttpResponse> => {
      const verdict = await judgeCallback(req, options.hmacKey, options.now);
      if (verdict.status !== 200) {
        logRefusal(verdict.status, verdict.reason);
        return { status: verdict.status, body: { error: verdict.reason } };
      }
      return {
        status: 200,
        body: { status: 'received' },
        after: () => {
          options.logger?.debug({ taskId: verdict.taskId }, 'KIE callback received');
          options.onTask(verdict.taskId);
        },
      };
    },
  };
}

export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const server = await startHttpServer({
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    routes: [callbackRoute(options)],
  });
  return { url: `${server.url}${CALLBACK_PATH}`, close: () => server.close() };
}
