/**
 * The KIE API's behaviour, free of HTTP: each handler takes the simulator's
 * state and a request's parts and returns the reply to send. Validation
 * reuses the request schemas from ../schemas.ts, so the simulator rejects
 * exactly what the client would.
 */
import type { z } from 'zod';
import {
  describeZodError,
  GenerateRequestSchema,
  isVideoTaskType,
  RecordInfoQuerySchema,
  taskTypeTakesSpeed,
  UpscaleRequestSchema,
  UPSCALE_INDEX,
  VaryRequestSchema,
  VARY_INDEX,
  VideoExtendRequestSchema,
} from '../schemas.js';
import { RATE_LIMIT_MSG, type FaultQueue } from './faults.js';
import { priceOf, type SimPriceTable } from './pricing.js';
import type { SlidingWindowLimiter } from './rateLimit.js';
import {
  DEFAULT_FAILURE,
  GRID_PARENT_TYPES,
  parentProblem,
  recordInfoData,
  SUCCESS_OUTCOME,
  UPSCALE_TASK_TYPE,
  VARY_TASK_TYPE,
  VIDEO_PARENT_TYPES,
} from './tasks.js';
import type { SimOp, SimTask, SimTaskInfo } from './types.js';

/** KIE's envelope. */
export interface KieBody {
  code: number;
  msg: string;
  data?: unknown;
}

/** What to answer: HTTP status (KIE answers 200 even for errors) and the envelope. */
export interface ApiReply {
  status: number;
  body: KieBody;
  /** The task created or asked about, for the request log. */
  taskId?: string;
}

export const RECORD_NOT_FOUND = 'Record does not exist';
export const UNAUTHORIZED_MSG = 'You do not have access permissions';
export const CREDITS_MSG = 'Credits insufficient';

/** Default msg for each documented code (000), for faults that name only a code. */
export const KIE_CODE_MESSAGES: Readonly<Record<number, string>> = Object.freeze({
  200: 'success',
  400: 'Bad request',
  401: UNAUTHORIZED_MSG,
  402: CREDITS_MSG,
  404: 'Not found',
  422: 'Validation error',
  429: RATE_LIMIT_MSG,
  455: 'Service unavailable: the system is under maintenance',
  500: 'Server error',
  501: 'Generation failed',
  505: 'Feature disabled',
});

export const ok = (data: unknown, taskId?: string): ApiReply => ({
  status: 200,
  body: { code: 200, msg: 'success', data },
  ...(taskId ? { taskId } : {}),
});
export const kieError = (code: number, msg: string, status = 200): ApiReply => ({ status, body: { code, msg } });

/** The state handlers read and change. One per simulator; nothing global. */
export interface SimContext {
  now(): number;
  readonly tasks: Map<string, SimTask>;
  readonly faults: FaultQueue;
  readonly limiter: SlidingWindowLimiter | null;
  readonly prices: SimPriceTable;
  /** The balance of the account a request's key belongs to (one shared account unless several keys were configured). */
  accountOf(callerKey: string): { credits: number };
  /** The label of the account a key belongs to (tasks remember it: another account's tasks do not exist for a key). */
  labelOf(callerKey: string): string | undefined;
  /** While planning a create: the caller's account label. */
  readonly caller?: string | undefined;
  newTaskId(): string;
  durationMs(info: SimTaskInfo): number;
  baseUrl(): string;
  /** Called once a task exists (to schedule its callback). */
  taskCreated(task: SimTask): void;
}

type Parsed = { ok: true; value: unknown } | { ok: false };

export function parseJson(raw: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch {
    return { ok: false };
  }
}

/** A create request, validated and resolved against its parent, before pricing. */
interface PlannedTask {
  taskType: string;
  speed: SimTaskInfo['speed'];
  params: Record<string, unknown>;
  parentTaskId: string | null;
  parentPosition: number | null;
  resultCount: number;
  aspectRatio: string;
  media: 'image' | 'video';
  callbackUrl: string | null;
}

type Plan = { ok: true; plan: PlannedTask } | { ok: false; reply: ApiReply };

const invalid = (error: z.ZodError): Plan => ({ ok: false, reply: kieError(422, describeZodError(error)) });
const refuse = (msg: string): Plan => ({ ok: false, reply: kieError(422, msg) });

/** Look up a parent task and check it can be acted on. */
function resolveParent(
  ctx: SimContext,
  taskId: string,
  allowed: ReadonlySet<string>,
  action: string,
): { ok: true; parent: SimTask } | { ok: false; reply: ApiReply } {
  const parent = ctx.tasks.get(taskId);
  if (!parent || !ownedBy(parent, ctx.caller)) return { ok: false, reply: kieError(422, RECORD_NOT_FOUND) };
  const problem = parentProblem(parent, ctx.now(), allowed, action);
  return problem ? { ok: false, reply: kieError(422, problem) } : { ok: true, parent };
}

function planGenerate(body: unknown): Plan {
  const parsed = GenerateRequestSchema.safeParse(body);
  if (!parsed.success) return invalid(parsed.error);
  const r = parsed.data;
  const video = isVideoTaskType(r.taskType);
  return {
    ok: true,
    plan: {
      taskType: r.taskType,
      speed: taskTypeTakesSpeed(r.taskType) ? (r.speed ?? 'fast') : null,
      params: r,
      parentTaskId: null,
      parentPosition: null,
      resultCount: video ? (r.videoBatchSize ?? 1) : 4,
      aspectRatio: r.aspectRatio ?? '1:1',
      media: video ? 'video' : 'image',
      callbackUrl: r.callBackUrl ?? null,
    },
  };
}

function planGridChild(ctx: SimContext, op: 'upscale' | 'vary', body: unknown): Plan {
  const parsed = (op === 'upscale' ? UpscaleRequestSchema : VaryRequestSchema).safeParse(body);
  if (!parsed.success) return invalid(parsed.error);
  const r = parsed.data;
  const resolved = resolveParent(ctx, r.taskId, GRID_PARENT_TYPES, op);
  if (!resolved.ok) return resolved;
  const { parent } = resolved;
  const position = r.imageIndex - (op === 'upscale' ? UPSCALE_INDEX.min : VARY_INDEX.min);
  if (position >= parent.resultCount) return refuse(`imageIndex ${r.imageIndex} is out of range: task ${parent.taskId} has ${parent.resultCount} images`);
  return {
    ok: true,
    plan: {
      taskType: op === 'upscale' ? UPSCALE_TASK_TYPE : VARY_TASK_TYPE,
      speed: parent.speed,
      params: r,
      parentTaskId: parent.taskId,
      parentPosition: position,
      resultCount: op === 'upscale' ? 1 : 4,
      aspectRatio: parent.aspectRatio,
      media: 'image',
      callbackUrl: r.callBackUrl ?? null,
    },
  };
}

function planExtend(ctx: SimContext, body: unknown): Plan {
  const parsed = VideoExtendRequestSchema.safeParse(body);
  if (!parsed.success) return invalid(parsed.error);
  const r = parsed.data;
  const resolved = resolveParent(ctx, r.taskId, VIDEO_PARENT_TYPES, 'extend');
  if (!resolved.ok) return resolved;
  const { parent } = resolved;
  if (r.index >= parent.resultCount) return refuse(`index ${r.index} is out of range: task ${parent.taskId} has ${parent.resultCount} videos`);
  return {
    ok: true,
    plan: {
      taskType: r.taskType,
      speed: null,
      params: r,
      parentTaskId: parent.taskId,
      parentPosition: r.index,
      resultCount: 1,
      aspectRatio: parent.aspectRatio,
      media: 'video',
      callbackUrl: r.callBackUrl ?? null,
    },
  };
}

function plan(ctx: SimContext, op: SimOp, body: unknown): Plan {
  switch (op) {
    case 'generate':
      return planGenerate(body);
    case 'upscale':
    case 'vary':
      return planGridChild(ctx, op, body);
    case 'extend':
      return planExtend(ctx, body);
  }
}

function outcomeFor(ctx: SimContext): SimTask['outcome'] {
  const fault = ctx.faults.takeTaskFailure();
  if (!fault) return { ...SUCCESS_OUTCOME };
  return {
    successFlag: fault.successFlag,
    errorCode: fault.errorCode === undefined ? DEFAULT_FAILURE.errorCode : fault.errorCode,
    errorMessage: fault.errorMessage === undefined ? DEFAULT_FAILURE.messages[fault.successFlag] : fault.errorMessage,
  };
}

function uniqueTaskId(ctx: SimContext): string {
  for (;;) {
    const id = ctx.newTaskId();
    if (!ctx.tasks.has(id)) return id;
  }
}

/**
 * POST to one of the four create endpoints. Order of checks: rate limit
 * (every authorised create counts, like a gateway), JSON, schema, parent,
 * credits. Nothing is created or charged unless all pass.
 */
export function handleCreate(ctx: SimContext, op: SimOp, rawBody: string, callerKey: string): ApiReply {
  if (ctx.limiter && !ctx.limiter.tryAcquire(callerKey, ctx.now())) return kieError(429, RATE_LIMIT_MSG);
  const json = parseJson(rawBody);
  if (!json.ok) return kieError(400, 'Invalid request body: not valid JSON');
  const caller = ctx.labelOf(callerKey);
  const planned = plan({ ...ctx, caller }, op, json.value);
  if (!planned.ok) return planned.reply;
  const p = planned.plan;
  const price = priceOf({ op, taskType: p.taskType, speed: p.speed, resultCount: p.resultCount }, ctx.prices);
  const account = ctx.accountOf(callerKey);
  if (account.credits < price) return kieError(402, CREDITS_MSG);

  const now = ctx.now();
  const info: SimTaskInfo = { taskId: uniqueTaskId(ctx), taskType: p.taskType, speed: p.speed, op };
  const duration = Math.max(0, ctx.durationMs(info));
  const task: SimTask = {
    ...info,
    createdAt: now,
    finishAt: now + (Number.isFinite(duration) ? duration : 0),
    params: p.params,
    parentTaskId: p.parentTaskId,
    parentPosition: p.parentPosition,
    resultCount: p.resultCount,
    outcome: outcomeFor(ctx),
    callbackUrl: p.callbackUrl,
    callbacksSent: 0,
    callbackDelivered: false,
    price,
    aspectRatio: p.aspectRatio,
    media: p.media,
    ...(caller !== undefined ? { account: caller } : {}),
  };
  account.credits -= price;
  ctx.tasks.set(task.taskId, task);
  ctx.taskCreated(task);
  return ok({ taskId: task.taskId }, task.taskId);
}

/** GET /api/v1/mj/record-info?taskId= */
export function handleRecordInfo(ctx: SimContext, query: Record<string, string>, callerKey: string): ApiReply {
  const parsed = RecordInfoQuerySchema.safeParse(query);
  if (!parsed.success) return kieError(422, describeZodError(parsed.error));
  const { taskId } = parsed.data;
  const task = ctx.tasks.get(taskId);
  if (!task || !ownedBy(task, ctx.labelOf(callerKey))) return { ...kieError(422, RECORD_NOT_FOUND), taskId };
  return ok(recordInfoData(task, ctx.now(), ctx.baseUrl()), taskId);
}

/** GET /api/v1/chat/credit */
export const handleCredits = (ctx: SimContext, callerKey: string): ApiReply => ok(ctx.accountOf(callerKey).credits);

/** A task of one account is unknown to the others' keys (tasks made before accounts, or with one account, are everyone's). */
const ownedBy = (task: SimTask, caller: string | undefined): boolean => task.account === undefined || caller === undefined || task.account === caller;
