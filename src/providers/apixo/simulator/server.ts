/**
 * The local APIXO server: node:http on 127.0.0.1 answering like APIXO's
 * Midjourney API (document 003 and the notes), for the adapter's contract
 * tests, the bot's simulator mode and the bench.
 *
 * Behaviour, and the choices the documents leave open:
 * - Routes: POST generateTask, GET statusTask?taskId=, GET current-balance,
 *   GET|HEAD /files/<taskId>_<i>.png (no key). Anything else: HTTP 404.
 * - Errors are real HTTP statuses with {code: status, message} (notes: 400,
 *   401, 402, 403, 404, 429, 500, 503). Create checks, in order: auth (401),
 *   rate limit (429), JSON (400), schema (400, message names the field,
 *   via the shared schemas), credits (402). Nothing is charged unless all pass.
 * - vary/upscale with an unknown or unfinished parent are accepted and end
 *   failed with failCode INVALID_TASK_ID (as 003's failCode table suggests).
 * - Lifecycle on the injected clock: pending → processing → success|failed.
 *   resultJson is a JSON string {"resultUrls": [...]}: 4 PNGs for grids
 *   (text-to-image, image-to-image, upload-paint, vary), 1 for upscale (real
 *   PNGs drawn by the KIE simulator's media module). The files answer 404
 *   from 24 h after the task's end (the notes' URL expiry); status still
 *   answers.
 * - request_type 'callback': when the task ends, POST {code: 200, message,
 *   data: <status data>} to callback_url; up to 3 retries on later checks.
 * - Faults (types.ts) come first, before auth; the first match is used.
 * - Balance answers {code: 200, data: {balance}} (shape uncertain).
 */
import { randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, randomHex } from '../../kie/simulator/random.js';
import { SlidingWindowLimiter } from '../../kie/simulator/rateLimit.js';
import { ApixoCreateRequestSchema, describeZodError, type ApixoCreateRequest } from '../schemas.js';
import { ApixoCallbacks } from './callbacks.js';
import { serveResultFile } from './files.js';
import { APIXO_SIM_DEFAULTS, bearerOf, error, MESSAGES, ok, readBody, routeOf, send, sha256, type Reply } from './http.js';
import {
  ApixoFaultQueue,
  DEFAULT_APIXO_PRICES,
  defaultApixoDurationMs,
  parentProblem,
  priceOf,
  speedOf,
  statusData,
  type RequestFault,
} from './tasks.js';
import type { ApixoFault, ApixoRecordedRequest, ApixoRequestEndpoint, ApixoSimTask, ApixoSimulator, ApixoSimulatorOptions } from './types.js';

class ApixoSimServer implements ApixoSimulator {
  private readonly server: Server;
  private readonly taskMap = new Map<string, ApixoSimTask>();
  private readonly faults = new ApixoFaultQueue();
  private readonly log: ApixoRecordedRequest[] = [];
  private readonly shutdown = new AbortController();
  private readonly expectedKey: Buffer | null;
  private readonly now: () => number;
  private readonly idRng: () => number;
  private readonly durationRng: () => number;
  private readonly limiter: SlidingWindowLimiter | null;
  private readonly callbacks: ApixoCallbacks;
  private balanceLeft: number;
  private timer: NodeJS.Timeout | null = null;
  private ownUrl = '';
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: ApixoSimulatorOptions) {
    if (opts.apiKey === '') throw new RangeError('apiKey must be non-empty (or null to accept any key)');
    this.now = opts.now ?? Date.now;
    this.expectedKey = opts.apiKey ? sha256(opts.apiKey) : null;
    const seed = opts.seed ?? randomInt(2 ** 31);
    this.idRng = createRng(seed);
    this.durationRng = createRng(seed ^ 0x2c1b3c6d);
    const limit = opts.createRateLimit === undefined ? APIXO_SIM_DEFAULTS.createRateLimit : opts.createRateLimit;
    this.limiter = limit ? new SlidingWindowLimiter(limit) : null;
    this.balanceLeft = opts.credits ?? APIXO_SIM_DEFAULTS.credits;
    this.callbacks = new ApixoCallbacks(this.taskMap, { now: this.now, baseUrl: () => this.baseUrl, signal: this.shutdown.signal });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, JSON.stringify({ code: 500, message: 'simulator error' }));
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    const host = this.opts.host ?? APIXO_SIM_DEFAULTS.host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.ownUrl = `http://${host}:${port}`;
    this.timer = setInterval(() => void this.fireCallbacks(), this.opts.callbackIntervalMs ?? APIXO_SIM_DEFAULTS.callbackIntervalMs);
    this.timer.unref();
  }

  get url(): string {
    return this.ownUrl;
  }
  get requests(): ApixoRecordedRequest[] {
    return this.log;
  }
  get tasks(): ReadonlyMap<string, ApixoSimTask> {
    return this.taskMap;
  }
  private get baseUrl(): string {
    return (this.opts.publicUrl ?? this.ownUrl).replace(/\/+$/, '');
  }

  inject(fault: ApixoFault): void {
    this.faults.inject(fault);
  }
  clearFaults(): void {
    this.faults.clear();
  }
  setCredits(n: number): void {
    this.balanceLeft = n;
  }
  credits(): number {
    return this.balanceLeft;
  }
  finish(taskId: string, outcome: ApixoSimTask['outcome'] = { state: 'success' }): void {
    const task = this.taskMap.get(taskId);
    if (!task) throw new Error(`simulator: no task ${taskId}`);
    task.finishAt = Math.min(task.finishAt, this.now());
    task.startAt = Math.min(task.startAt, task.finishAt);
    task.outcome = outcome;
  }
  forget(taskId: string): void {
    this.taskMap.delete(taskId);
    this.callbacks.forget(taskId);
  }
  clearRequests(): void {
    this.log.length = 0;
  }
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.shutdown.abort();
      if (this.timer) clearInterval(this.timer);
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  fireCallbacks(): Promise<void> {
    return this.callbacks.fireDue();
  }

  // -- requests -------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const route = routeOf(method, url.pathname);
    const raw = await readBody(req, APIXO_SIM_DEFAULTS.maxBodyBytes);
    const bearer = bearerOf(req.headers.authorization);
    let parsedBody: unknown = null;
    if (raw) {
      try {
        parsedBody = JSON.parse(raw);
      } catch {
        parsedBody = raw;
      }
    }
    const entry: ApixoRecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: raw === null ? '[body too large]' : parsedBody,
      authorized: this.accepts(bearer),
      at: this.now(),
      endpoint: route.endpoint,
      status: 0,
    };
    this.log.push(entry);

    const fault = this.faults.takeForRequest(route.endpoint);
    if (fault && (await this.applyFault(fault, req, res, entry, raw, bearer))) return;

    if (route.endpoint === 'file') return serveResultFile(this.taskMap, this.now(), route.fileName ?? '', entry, method === 'HEAD', res);
    const reply = this.dispatch(route.endpoint, entry, raw, bearer);
    entry.status = reply.status;
    if (reply.taskId) entry.taskId = reply.taskId;
    send(res, reply.status, JSON.stringify(reply.body));
  }

  private accepts(bearer: string | null): boolean {
    if (bearer === null) return false;
    return this.expectedKey === null || timingSafeEqual(sha256(bearer), this.expectedKey);
  }

  private dispatch(endpoint: ApixoRequestEndpoint, entry: ApixoRecordedRequest, raw: string | null, bearer: string | null): Reply {
    if (endpoint === 'unknown') return error(404, `No such endpoint: ${entry.method} ${entry.path}`);
    if (!entry.authorized || bearer === null) return error(401);
    switch (endpoint) {
      case 'status': {
        const taskId = entry.query['taskId'];
        if (!taskId) return error(400, 'taskId is required');
        entry.taskId = taskId;
        const task = this.taskMap.get(taskId);
        return task ? ok(statusData(task, this.now(), this.baseUrl)) : error(404, 'Task not found');
      }
      case 'balance':
        return ok({ balance: this.balanceLeft });
      default:
        return this.create(raw, bearer);
    }
  }

  private create(raw: string | null, bearer: string): Reply {
    if (raw === null) return error(400, 'Request body too large');
    if (this.limiter && !this.limiter.tryAcquire(sha256(bearer).toString('hex'), this.now())) return error(429);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return error(400, 'Request body is not valid JSON');
    }
    const parsed = ApixoCreateRequestSchema.safeParse(json);
    if (!parsed.success) return error(400, describeZodError(parsed.error).message);
    const req: ApixoCreateRequest = parsed.data;
    const input = req.input;
    const parent = 'taskId' in input ? this.taskMap.get(input.taskId) : undefined;
    const speed = speedOf(req, parent);
    const price = priceOf(input.mode, speed, { ...DEFAULT_APIXO_PRICES, ...this.opts.prices });
    if (this.balanceLeft < price) return error(402);
    this.balanceLeft -= price;

    const now = this.now();
    const duration = Math.max(
      0,
      this.opts.durationMs?.({ mode: input.mode, speed }) ?? defaultApixoDurationMs({ mode: input.mode, speed }, this.durationRng, this.opts.timeScale ?? 1),
    );
    const share = this.opts.pendingShare ?? APIXO_SIM_DEFAULTS.pendingShare;
    const taskId = randomHex(this.idRng, 32);
    let outcome: ApixoSimTask['outcome'] = { state: 'success' };
    let rawResultJson: string | null = null;
    if ('taskId' in input) {
      const problem = parentProblem(parent, now, input.imageIndex);
      if (problem) outcome = { state: 'failed', failCode: 'INVALID_TASK_ID', failMsg: problem };
    }
    const fault = this.faults.takeForTask();
    if (fault?.kind === 'taskFailure') outcome = { state: 'failed', failCode: fault.failCode, failMsg: fault.failMsg ?? `${fault.failCode} (simulated)` };
    if (fault?.kind === 'malformedResult') rawResultJson = fault.resultJson;
    const task: ApixoSimTask = {
      taskId,
      mode: input.mode,
      speed,
      input: input as Record<string, unknown>,
      createdAt: now,
      startAt: now + Math.round(duration * share),
      finishAt: now + duration,
      parentTaskId: 'taskId' in input ? input.taskId : null,
      parentPosition: 'imageIndex' in input ? input.imageIndex : null,
      aspectRatio: ('aspect' in input && input.aspect) || parent?.aspectRatio || '1:1',
      resultCount: input.mode === 'upscale' ? 1 : 4,
      outcome,
      rawResultJson,
      callbackUrl: req.request_type === 'callback' ? (req.callback_url ?? null) : null,
      callbacksSent: 0,
      callbackDelivered: false,
      price,
    };
    this.taskMap.set(taskId, task);
    this.callbacks.watch(task);
    return ok({ taskId }, taskId);
  }

  private async applyFault(
    fault: RequestFault,
    req: IncomingMessage,
    res: ServerResponse,
    entry: ApixoRecordedRequest,
    raw: string | null,
    bearer: string | null,
  ): Promise<boolean> {
    switch (fault.kind) {
      case 'http':
        entry.status = fault.status;
        send(res, fault.status, JSON.stringify({ code: fault.status, message: fault.message ?? MESSAGES[fault.status] ?? STATUS_CODES[fault.status] ?? 'error' }));
        return true;
      case 'code':
        entry.status = 200;
        send(res, 200, JSON.stringify({ code: fault.code, message: fault.message ?? MESSAGES[fault.code] ?? 'error' }));
        return true;
      case 'html': {
        const status = fault.status ?? 502;
        entry.status = status;
        send(res, status, `<html><head><title>${status}</title></head><body><h1>${status} ${STATUS_CODES[status] ?? ''}</h1><hr>nginx</body></html>`, 'text/html');
        return true;
      }
      case 'raw':
        entry.status = fault.status ?? 200;
        send(res, entry.status, fault.body);
        return true;
      case 'reset':
        // The request arrived; with afterCreate the task exists but the answer is lost.
        if (fault.afterCreate && entry.endpoint === 'create' && entry.authorized && bearer) {
          const reply = this.create(raw, bearer);
          if (reply.taskId) entry.taskId = reply.taskId;
        }
        req.socket.destroy();
        return true;
      case 'slow':
        return !(await this.delay(fault.delayMs));
    }
  }

  private delay(ms: number): Promise<boolean> {
    const signal = this.shutdown.signal;
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
}

/** Start a local APIXO server on 127.0.0.1 (ephemeral port by default). */
export async function startApixoSimulator(opts: ApixoSimulatorOptions = {}): Promise<ApixoSimulator> {
  const sim = new ApixoSimServer(opts);
  await sim.listen();
  return sim;
}
