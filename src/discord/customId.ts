/**
 * The custom_id codec: every button and modal the bot renders carries one
 * typed, versioned id, and every interaction it receives is decoded through
 * here. A single place means the renderer and the handlers cannot disagree
 * on the format, and the version prefix lets a future format coexist with
 * buttons still sitting on old messages (those decode to null, and the
 * handler can tell the user the button is stale).
 *
 * Format: `tj1:<action>:<jobId>` or `tj1:<action>:<jobId>:<index>`; the
 * /history page buttons are `tj1:history_page:<viewId>:<page>`; a pending
 * batch's are `tj1:batch_confirm:<batchId>` and `tj1:batch_cancel:<batchId>`.
 */
import { FOLLOW_UP_ACTIONS } from '../domain/actions.js';
import { z } from 'zod';

/** Bumped when the format changes incompatibly; ids with another prefix are foreign. */
export const CUSTOM_ID_PREFIX = 'tj1';

/** Discord's limit for custom_id on buttons, selects, modals and text inputs. */
export const CUSTOM_ID_MAX_LENGTH = 100;

/** The one text input of the manual-extend modal (its id only needs to be unique within the modal). */
export const EXTEND_PROMPT_INPUT_ID = 'prompt';

/** Every button/modal action: the follow-ups on results (domain), plus cancel and the extend modal. */
export const COMPONENT_ACTIONS = [...FOLLOW_UP_ACTIONS, 'cancel', 'extend_modal', 'history_page', 'batch_confirm', 'batch_cancel'] as const;
export type ComponentActionName = (typeof COMPONENT_ACTIONS)[number];

/** Actions on one image of a 2×2 grid; index is the 0-based grid position (0–3). */
export const GRID_ACTIONS = ['upscale', 'vary'] as const;
/** Actions on one clip of a video result; index is the 0-based clip. */
export const CLIP_ACTIONS = ['extend_auto', 'extend_manual', 'extend_modal'] as const;
/** Actions on a whole job (reroll, act on an upscale, cancel a queued job): no index. */
export const JOB_ACTIONS = [
  'reroll',
  'vary_up',
  'upscale_subtle',
  'upscale_creative',
  'vary_subtle',
  'vary_strong',
  'animate_high',
  'animate_low',
  'cancel',
] as const;

export type GridActionName = (typeof GRID_ACTIONS)[number];
export type ClipActionName = (typeof CLIP_ACTIONS)[number];
export type JobActionName = (typeof JOB_ACTIONS)[number];

/** Grid positions: Midjourney grids have four images. */
export const GRID_POSITION_MAX = 3;
/**
 * Clip indexes are bounded only to keep ids short and to reject nonsense;
 * the handler still checks the index against the job's actual results.
 */
export const CLIP_INDEX_MAX = 99;

/** /history page buttons: the stored view (src/domain/history.ts) and the 0-based page. */
export const PAGE_ACTIONS = ['history_page'] as const;
export type PageActionName = (typeof PAGE_ACTIONS)[number];
/** Pages are bounded by the index's three digits. */
export const PAGE_INDEX_MAX = 999;

/** A pending batch's Confirm / Cancel (src/domain/batches.ts): the batch id, no index. */
export const BATCH_ACTIONS = ['batch_confirm', 'batch_cancel'] as const;
export type BatchActionName = (typeof BATCH_ACTIONS)[number];

/** Job ids as newJobId makes them (base36), with headroom. */
export const JOB_ID_PATTERN = /^[0-9a-z]{1,24}$/;

/** What a component (button or modal) asks for, as the handlers see it. */
export type ComponentAction =
  | { action: GridActionName; jobId: string; index: number }
  | { action: ClipActionName; jobId: string; index: number }
  | { action: JobActionName; jobId: string }
  | { action: PageActionName; viewId: string; index: number }
  | { action: BatchActionName; batchId: string };

const jobId = z.string().regex(JOB_ID_PATTERN);
const gridIndex = z.number().int().min(0).max(GRID_POSITION_MAX);
const clipIndex = z.number().int().min(0).max(CLIP_INDEX_MAX);

export const ComponentActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.enum(GRID_ACTIONS), jobId, index: gridIndex }).strict(),
  z.object({ action: z.enum(CLIP_ACTIONS), jobId, index: clipIndex }).strict(),
  z.object({ action: z.enum(JOB_ACTIONS), jobId }).strict(),
  z.object({ action: z.enum(PAGE_ACTIONS), viewId: jobId, index: z.number().int().min(0).max(PAGE_INDEX_MAX) }).strict(),
  z.object({ action: z.enum(BATCH_ACTIONS), batchId: jobId }).strict(),
]);

/** Thrown by encodeCustomId for an action that could never decode: a programming error, not a user's. */
export class InvalidComponentActionError extends Error {
  constructor(readonly issue: string) {
    super(`invalid component action: ${issue}`);
    this.name = 'InvalidComponentActionError';
  }
}

const hasIndex = (a: ComponentAction): a is Extract<ComponentAction, { index: number }> => 'index' in a;

/**
 * Encode an action as a custom_id. Validates first, so a bad job id or index
 * fails here, where it is made, rather than as a silently dead button.
 */
export function encodeCustomId(action: ComponentAction): string {
  const parsed = ComponentActionSchema.safeParse(action);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidComponentActionError(issue ? `${issue.path.join('.') || 'action'}: ${issue.message}` : 'invalid');
  }
  const a = parsed.data;
  const target = 'viewId' in a ? a.viewId : 'batchId' in a ? a.batchId : a.jobId;
  return [CUSTOM_ID_PREFIX, a.action, target, ...(hasIndex(a) ? [String(a.index)] : [])].join(':');
}

/** Canonical non-negative integers only ("2", not "02", "+2" or "2.0"), so each action has exactly one id. */
const INDEX_PATTERN = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Decode a custom_id. Returns null for anything that is not a current
 * Teamjourney id (another app's, an older format, tampered or malformed),
 * so the caller has one branch for "not ours / stale".
 */
export function decodeCustomId(id: string): ComponentAction | null {
  if (id.length === 0 || id.length > CUSTOM_ID_MAX_LENGTH) return null;
  const [prefix, action, job, index, ...rest] = id.split(':');
  if (prefix !== CUSTOM_ID_PREFIX || rest.length > 0) return null;
  if (index !== undefined && !INDEX_PATTERN.test(index)) return null;
  const key = (PAGE_ACTIONS as readonly (string | undefined)[]).includes(action)
    ? 'viewId'
    : (BATCH_ACTIONS as readonly (string | undefined)[]).includes(action)
      ? 'batchId'
      : 'jobId';
  const candidate = index === undefined ? { action, [key]: job } : { action, [key]: job, index: Number(index) };
  const parsed = ComponentActionSchema.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}

/**
 * The key recorded in Job.pressed when a button is used ('upscale:1',
 * 'vary_up'): the custom_id without prefix and job id, since pressed is
 * already per job. The renderer shows buttons with these keys as pressed.
 */
export function pressedKey(action: ComponentAction): string {
  return hasIndex(action) ? `${action.action}:${action.index}` : action.action;
}
