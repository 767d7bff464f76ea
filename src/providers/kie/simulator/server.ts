/**
 * The HTTP side of the simulator: node:http plumbing that records each
 * request, applies injected faults, checks the Bearer key and hands the
 * request to the handlers (API) or the media module (files).
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { simulatedMp4 } from './assets.js';
import { CallbackDispatcher } from './callbacks.js';
import { FaultQueue, type RequestFault } from './faults.js';
import {
  handleCreate,
  handleCredits,
  handleRecordInfo,
  KIE_CODE_MESSAGES,
  kieError,
  parseJson,
  UNAUTHORIZED_MSG,
  type ApiReply,
  type KieBody,
  type SimContext,
} from './handlers.js';
import { fileBody, parseFileName, placeholderMp4, placeholderPng, taskImagePng, type FileBody } from './media.js';
import { DEFAULT_SIM_PRICES } from './pricing.js';
import { createRng, randomHex } from './random.js';
import { SlidingWindowLimiter } from './rateLimit.js';
import { routeOf, type Route } from './router.js';
import { flagAt, mergeOutcome } from './tasks.js';
import { defaultDurationMs } from './timing.js';
import type { Fault, KieSimulator, RecordedRequest, SimPersistence, SimTask, SimulatorOptions } from './types.js';

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  credits: 10_000,
  timeScale: 1,
  createRateLimit: Object.freeze({ max: 20, windowMs: 10_000 }),
  callbackIntervalMs: 250,
  callbackCopies: 1,
  /** Request bodies above this are refused (KIE's are a few KB). */
  maxBodyBytes: 1024 * 1024,
});

const HTML_ERROR_PAGE = (status: number): string =>
  `<html>\r\n<head><title>${status} ${STATUS_CODES[status] ?? 'Error'}</title></head>\r\n<body>\r\n` +
  `<center><h1>${status} ${STATUS_CODES[status] ?? 'Error'}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerOf(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S.*)$/i.exec(header ?? '');
  const token = m?.[1]?.trim();
  return token ? token : null;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

function sendJson(res: ServerResponse, status: number, body: KieBody): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Read the whole body as text; null if it exceeds `limit` bytes (the rest is drained). */
async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? null : Buffer.concat(chunks).toString('utf8');
}

function recordedBody(raw: string | null): unknown {
  if (raw === null) return '[body too large]';
  if (raw === '') return null;
  const parsed = parseJson(raw);
  return parsed.ok ? parsed.value : raw;
}

function checkOptions(o: SimulatorOptions): void {
  const positive = (v: number | undefined, name: string): void => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number, got ${v}`);
  };
  if (o.credits !== undefined && !Number.isFinite(o.credits)) throw new RangeError(`credits must be finite, got ${o.credits}`);
  positive(o.timeScale, 'timeScale');
  positive(o.callbackIntervalMs, 'callbackIntervalMs');
  if (o.callbackCopies !== undefined && !(Number.isInteger(o.callbackCopies) && o.callbackCopies >= 1)) {
    throw new RangeError(`callbackCopies must be an integer >= 1, got ${o.callbackCopies}`);
  }
  if (o.apiKey === '') throw new RangeError('apiKey must be non-empty (or null to accept any key)');
}

/** The task table, written through to `persistence` when there is one. */
class TaskMap extends Map<string, SimTask> {
  constructor(private readonly persistence: SimPersistence | undefined) {
    super();
  }
  override set(taskId: string, task: SimTask): this {
    super.set(taskId, task);
    void this.persistence?.save(task).catch(() => {});
    return this;
  }
  override delete(taskId: string): boolean {
    void this.persistence?.remove(taskId).catch(() => {});
    return super.delete(taskId);
  }
  /** Tasks from an earlier run, without writing them back. */
  restore(tasks: Iterable<SimTask>): void {
    for (const task of tasks) super.set(task.taskId, task);
  }
}

class SimulatorServer implements KieSimulator {
  private readonly server: Server;
  private readonly taskMap: TaskMap;
  private readonly faults = new FaultQueue();
  private readonly log: RecordedRequest[] = [];
  private readonly ctx: SimContext;
  private readonly callbacks: CallbackDispatcher;
  private readonly shutdown = new AbortController();
  private readonly expectedKey: Buffer | null;
  /** With `accounts`: key hash (hex) → its label and balance. */
  private readonly accountsByKey: Map<string, { label: string; balance: { credits: number } }> | null;
  private readonly accountsByLabel = new Map<string, { credits: number }>();
  private readonly now: () => number;
  private callbackTimer: NodeJS.Timeout | null = null;
  private ownUrl = '';
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: SimulatorOptions) {
    checkOptions(opts);
    this.taskMap = new TaskMap(opts.persistence);
    this.now = opts.now ?? Date.now;
    this.expectedKey = opts.apiKey ? sha256(opts.apiKey) : null;
    const shared = { credits: opts.credits ?? DEFAULTS.credits };
    this.accountsByKey = opts.accounts ? new Map() : null;
    for (const [label, a] of Object.entries(opts.accounts ?? {})) {
      if (!a.apiKey) throw new RangeError(`accounts.${label}.apiKey must be non-empty`);
      const balance = { credits: a.credits ?? opts.credits ?? DEFAULTS.credits };
      this.accountsByKey!.set(sha256(a.apiKey).toString('hex'), { label, balance });
      this.accountsByLabel.set(label, balance);
    }
    const seed = opts.seed ?? randomInt(2 ** 31);
    const idRng = createRng(seed);
    const durationRng = createRng(seed ^ 0x5bd1e995);
    const timeScale = opts.timeScale ?? DEFAULTS.timeScale;
    const rateLimit = opts.createRateLimit === undefined ? DEFAULTS.createRateLimit : opts.createRateLimit;
    const baseUrl = (): string => this.publicUrl;
    this.callbacks = new CallbackDispatcher(this.taskMap, {
      now: this.now,
      baseUrl,
      hmacKey: opts.webhookHmacKey ?? null,
      copies: opts.callbackCopies ?? DEFAULTS.callbackCopies,
      signal: this.shutdown.signal,
    });
    this.ctx = {
      now: this.now,
      tasks: this.taskMap,
      faults: this.faults,
      limiter: rateLimit ? new SlidingWindowLimiter(rateLimit) : null,
      prices: { ...DEFAULT_SIM_PRICES, ...opts.prices },
      accountOf: (callerKey) => this.accountsByKey?.get(callerKey)?.balance ?? shared,
      labelOf: (callerKey) => this.accountsByKey?.get(callerKey)?.label,
      newTaskId: () => randomHex(idRng, 32),
      durationMs: opts.durationMs ?? ((info) => defaultDurationMs(info, durationRng, timeScale)),
      baseUrl,
      taskCreated: (task) => this.callbacks.watch(task),
    };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) sendJson(res, 500, { code: 500, msg: 'simulator error' });
        else res.destroy();
      });
    });
  }

  async restore(): Promise<void> {
    const persistence = this.opts.persistence;
    // Lazy persistence: tasks come back one by one as requests name them (see loadMentioned).
    if (!persistence?.load || persistence.get) return;
    // Restored tasks get no callbacks: the receiver they named belonged to the previous run. Polling finds them.
    this.taskMap.restore(await persistence.load());
  }

  async listen(): Promise<void> {
    const host = this.opts.host ?? DEFAULTS.host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? DEFAULTS.port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.ownUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.callbackTimer = setInterval(() => void this.callbacks.fireDue(), this.opts.callbackIntervalMs ?? DEFAULTS.callbackIntervalMs);
    this.callbackTimer.unref();
  }

  // -- KieSimulator ---------------------------------------------------------

  get url(): string {
    return this.ownUrl;
  }

  get requests(): RecordedRequest[] {
    return this.log;
  }

  get tasks(): ReadonlyMap<string, SimTask> {
    return this.taskMap;
  }

  private get publicUrl(): string {
    return (this.opts.publicUrl ?? this.ownUrl).replace(/\/+$/, '');
  }

  inject(fault: Fault): void {
    this.faults.inject(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setCredits(n: number, account?: string): void {
    if (!Number.isFinite(n)) throw new RangeError(`credits must be finite, got ${n}`);
    this.balanceOf(account).credits = n;
  }

  credits(account?: string): number {
    return this.balanceOf(account).credits;
  }

  private balanceOf(account: string | undefined): { credits: number } {
    if (account === undefined) {
      if (this.accountsByKey) throw new Error('simulator: name the account (it has several)');
      return this.ctx.accountOf('');
    }
    const balance = this.accountsByLabel.get(account);
    if (!balance) throw new Error(`simulator: no account ${account}`);
    return balance;
  }

  finish(taskId: string, outcome: Partial<SimTask['outcome']> = {}): void {
    const task = this.taskMap.get(taskId);
    if (!task) throw new Error(`simulator: no task ${taskId}`);
    task.finishAt = Math.min(task.finishAt, this.now());
    task.outcome = mergeOutcome(task.outcome, outcome);
  }

  forget(taskId: string): void {
    this.taskMap.delete(taskId);
    this.callbacks.forget(taskId);
  }

  fireCallbacks(): Promise<void> {
    return this.callbacks.fireDue();
  }

  clearRequests(): void {
    this.log.length = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.shutdown.abort();
      if (this.callbackTimer) clearInterval(this.callbackTimer);
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  // -- requests -------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    const route = routeOf(method, url.pathname);
    const raw = await readBody(req, DEFAULTS.maxBodyBytes);
    const bearer = bearerOf(req.headers.authorization);
    const account = bearer === null ? undefined : this.accountsByKey?.get(sha256(bearer).toString('hex'))?.label;
    const entry: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body: recordedBody(raw),
      authorized: this.accepts(bearer),
      at: this.now(),
      endpoint: route.endpoint,
      responseCode: 0,
      ...(account !== undefined ? { account } : {}),
    };
    this.log.push(entry);

    await this.loadMentioned(route, url, raw);
    const fault = this.faults.takeForRequest(route.endpoint, account);
    if (fault?.kind === 'lostAnswer') {
      if (route.endpoint !== 'file') {
        const reply = this.dispatch(route, entry, raw, bearer);
        entry.responseCode = reply.body.code;
        if (reply.taskId) entry.taskId = reply.taskId;
      }
      req.socket.destroy();
      return;
    }
    if (fault && (await this.applyFault(fault, req, res, entry))) return;

    if (route.endpoint === 'file') {
      await this.serveFile(route.fileName, entry, method === 'HEAD', res);
      return;
    }
    const reply = this.dispatch(route, entry, raw, bearer);
    entry.responseCode = reply.body.code;
    if (reply.taskId) entry.taskId = reply.taskId;
    sendJson(res, reply.status, reply.body);
  }

  /** With lazy persistence: bring back from storage any earlier run's task this request names (a poll, a parent, a file). */
  private async loadMentioned(route: Route, url: URL, raw: string | null): Promise<void> {
    const get = this.opts.persistence?.get;
    if (!get) return;
    const ids = new Set<string>();
    const fromQuery = url.searchParams.get('taskId');
    if (fromQuery) ids.add(fromQuery);
    if (route.endpoint === 'file') {
      const wanted = parseFileName(route.fileName);
      if (wanted && wanted.kind !== 'big') ids.add(wanted.taskId);
    } else if (raw) {
      try {
        const body = JSON.parse(raw) as { taskId?: unknown };
        if (typeof body?.taskId === 'string') ids.add(body.taskId);
      } catch {
        /* the handler answers a bad body */
      }
    }
    for (const id of ids) {
      if (id.length > 200 || this.taskMap.has(id)) continue;
      const task = await get.call(this.opts.persistence, id).catch(() => undefined);
      // Restored tasks get no callbacks: the receiver they named belonged to the previous run. Polling finds them.
      if (task && !this.taskMap.has(id)) this.taskMap.restore([task]);
    }
  }

  private accepts(bearer: string | null): boolean {
    if (bearer === null) return false;
    if (this.accountsByKey) return this.accountsByKey.has(sha256(bearer).toString('hex'));
    return this.expectedKey === null || timingSafeEqual(sha256(bearer), this.expectedKey);
  }

  private dispatch(route: Exclude<Route, { endpoint: 'file' }>, entry: RecordedRequest, raw: string | null, bearer: string | null): ApiReply {
    if (route.endpoint === 'unknown') {
      return kieError(404, `No such endpoint: ${entry.method} ${entry.path}`, 404);
    }
    if (!entry.authorized || bearer === null) return kieError(401, UNAUTHORIZED_MSG);
    switch (route.endpoint) {
      case 'recordInfo':
        return handleRecordInfo(this.ctx, entry.query, sha256(bearer).toString('hex'));
      case 'credits':
        return handleCredits(this.ctx, sha256(bearer).toString('hex'));
      default:
        if (raw === null) return kieError(400, `Request body larger than ${DEFAULTS.maxBodyBytes} bytes`, 413);
        // Rate-limit per key without keeping the key itself.
        return handleCreate(this.ctx, route.op, raw, sha256(bearer).toString('hex'));
    }
  }

  /** Answer per the fault; false means "carry on normally" (after a slow fault's delay). */
  private async applyFault(fault: RequestFault, req: IncomingMessage, res: ServerResponse, entry: RecordedRequest): Promise<boolean> {
    switch (fault.kind) {
      case 'code':
        entry.responseCode = fault.code;
        sendJson(res, 200, { code: fault.code, msg: fault.msg ?? KIE_CODE_MESSAGES[fault.code] ?? 'error' });
        return true;
      case 'http': {
        const code = fault.code ?? fault.status;
        entry.responseCode = fault.status;
        sendJson(res, fault.status, { code, msg: fault.msg ?? KIE_CODE_MESSAGES[code] ?? STATUS_CODES[fault.status] ?? 'error' });
        return true;
      }
      case 'html': {
        const status = fault.status ?? 502;
        const page = HTML_ERROR_PAGE(status);
        entry.responseCode = status;
        res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
        res.end(page);
        return true;
      }
      case 'reset':
      case 'lostAnswer':
        req.socket.destroy();
        return true;
      case 'slow':
        // Closing the simulator cuts the wait short; the socket is gone by then.
        return !(await this.delay(fault.delayMs));
    }
  }

  /** Wait `ms` of real time; false if the simulator closed meanwhile. */
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

  private resolveFile(fileName: string, entry: RecordedRequest): FileBody | null {
    const wanted = parseFileName(fileName);
    if (!wanted) return null;
    const sizeParam = entry.query['size'];
    const size = sizeParam !== undefined && /^\d{1,10}$/.test(sizeParam) ? Number(sizeParam) : null;
    if (wanted.kind === 'big') {
      return fileBody(wanted.ext === 'png' ? placeholderPng() : placeholderMp4(), wanted.ext, wanted.bytes);
    }
    entry.taskId = wanted.taskId;
    const task = this.taskMap.get(wanted.taskId);
    if (!task || flagAt(task, this.now()) !== 1 || wanted.index >= task.resultCount) return null;
    if ((task.media === 'video') !== (wanted.ext === 'mp4')) return null;
    return fileBody(wanted.ext === 'png' ? taskImagePng(task, wanted.index) : simulatedMp4(), wanted.ext, size);
  }

  /** Result files need no key (like KIE's public file host); unknown, unfinished or forgotten ones are 404. */
  private async serveFile(fileName: string, entry: RecordedRequest, headOnly: boolean, res: ServerResponse): Promise<void> {
    const file = this.resolveFile(fileName, entry);
    if (!file) {
      entry.responseCode = 404;
      sendJson(res, 404, { code: 404, msg: 'File not found' });
      return;
    }
    entry.responseCode = 200;
    const chunked = entry.query['chunked'] === '1';
    res.writeHead(200, {
      'content-type': file.contentType,
      ...(chunked ? {} : { 'content-length': file.size }),
      'cache-control': 'public, max-age=1209600',
    });
    if (headOnly) {
      res.end();
      return;
    }
    await pipeline(Readable.from(file.chunks(), { objectMode: false }), res).catch(() => res.destroy());
  }
}

/** Start a simulator listening on 127.0.0.1 (by default on an ephemeral port). */
export async function startKieSimulator(opts: SimulatorOptions = {}): Promise<KieSimulator> {
  const sim = new SimulatorServer(opts);
  await sim.restore();
  await sim.listen();
  return sim;
}
