/**
 * The image-provider port: what the domain needs from a Midjourney API,
 * in the domain's own words, so that KIE, APIXO or a third API can sit
 * behind the same jobs, buttons, budgets and tracker.
 *
 * The domain and the Discord layer import this module, never a provider.
 * Each provider lives in src/providers/<id>/ with an adapter implementing
 * `ImageProvider`; the composition root (main.ts) builds the adapters and
 * hands the domain a `ProviderRegistry`.
 *
 * Shape of the port:
 *
 *   create(CreateRequest)     a new task from a prompt (grid from text or
 *                             images), an image to animate, or an image to
 *                             edit (inpaint). Costs credits.
 *   followUp(FollowUpRequest) a task that acts on a result of an earlier task
 *                             of the SAME provider (upscale, vary, extend,
 *                             animate an upscale). Costs credits.
 *   status(taskId)            the task now, normalised (TaskStatus).
 *   balance()                 the account's remaining credits, in the
 *                             provider's own unit.
 *   check(request)            the pure, synchronous validation create/followUp
 *                             run first: a refusal here means nothing is sent.
 *   parseCallback(body)       a provider's callback body as a TaskStatus (a hint
 *                             only: the tracker still confirms with status()).
 *
 * `capabilities` says which follow-ups exist on which kind of result, so the
 * Discord layer shows only buttons the provider can do (never a button that
 * fails). 🔄 (reroll) is the domain re-sending a job's stored request; it
 * needs no provider method, only the `reroll` capability.
 *
 * Several accounts (optional: KIE with KIE_API_KEYS): `accounts` names them;
 * `chooseAccount` picks the one a new job goes to (or checks the one it is
 * pinned to) before it is sent, the job records it, and every later call for
 * that job (polls, follow-ups) passes it back as `opts.account`.
 * `accountReports` reads each account's balance for /credits; accounts that
 * are taken out of rotation or put back are told to `onAccountChange`.
 *
 * Every failure leaves create/followUp/status/balance as a ProviderError
 * carrying a category the domain can act on (refund, failover, tell the user,
 * poll again) without knowing HTTP codes or failCodes.
 */

import type { ProviderError, TaskFailure } from './providerError.js';
import type { FollowUpAction, ResultKind, Speed, TaskKind } from './taskKinds.js';

/** Which provider made a job; stored on the job so its buttons always go back to it. */
export type ProviderId = string;

export interface ProviderCallOptions {
  signal?: AbortSignal;
  /**
   * The account (an API key, by its configured name; never the key) to use:
   * the one a job was sent with, for its polls; the one chosen or pinned, for
   * a create; the parent's, for a follow-up. Unset: the provider's first.
   */
  account?: string;
}

/** Options of create/followUp. */
export interface CreateCallOptions extends ProviderCallOptions {
  callbackUrl?: string;
  /**
   * Awaited right before each create request leaves (after any rate-limit or
   * shared-window wait, again before a retried attempt). If it throws, that
   * request is not sent and the error leaves create/followUp as it is.
   */
  onSending?: () => Promise<void>;
}

// The vocabulary (speeds, task and result kinds, follow-up actions) is in taskKinds.ts.
export * from './taskKinds.js';

// ---------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------

export interface NumberRange {
  min: number;
  max: number;
}

/**
 * What a provider can do. The domain refuses (privately, before any call)
 * what is not listed; the Discord layer hides buttons not listed.
 */
export interface ProviderCapabilities {
  /** Kinds of create: 'imagine' (text, or text + reference images), 'animate', 'edit'. */
  creates: readonly CreateRequest['kind'][];
  /** The follow-ups shown on each kind of result. */
  followUps: Readonly<Record<ResultKind, readonly FollowUpAction[]>>;
  speeds: readonly Speed[];
  /** Model versions as the domain spells them ('7', '6.1', 'niji6', 'niji7', …). */
  versions: readonly string[];
  /** Aspect ratios accepted ('w:h'). */
  aspectRatios: readonly string[];
  /** How reference images may be used with 'imagine'. */
  imageModes: readonly ImageMode[];
  /** Most reference images one 'imagine' may carry. */
  maxImages: number;
  promptMaxLength: number;
  ranges: { chaos: NumberRange; stylize: NumberRange; weird: NumberRange };
  /** Whether the provider can call us back when a task ends. */
  callbacks: boolean;
  /** How long its result URLs can be downloaded after the task ends (absent: KIE's, DEFAULT_RESULT_URL_TTL_MS). */
  resultUrlTtlMs?: number;
}

/** KIE keeps results about 14 days (docs/NOTES.md); the default for a provider that does not say. */
export const DEFAULT_RESULT_URL_TTL_MS = 14 * 24 * 60 * 60 * 1000;

export const canFollowUp = (caps: ProviderCapabilities, result: ResultKind, action: FollowUpAction): boolean =>
  caps.followUps[result].includes(action);

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/** 'reference' = image-to-image; 'style' / 'omni' = Midjourney's --sref / --oref. */
export type ImageMode = 'reference' | 'style' | 'omni';

export interface ImagineOptions {
  speed?: Speed;
  /** 'w:h', e.g. '16:9'. */
  aspectRatio?: string;
  version?: string;
  /** Midjourney --chaos (KIE: variety). */
  chaos?: number;
  /** Midjourney --stylize (KIE: stylization). */
  stylize?: number;
  /** Midjourney --weird (KIE: weirdness). */
  weird?: number;
  /** Ask the provider to translate a non-English prompt. */
  translate?: boolean;
  /** Omni-reference weight (--ow), for imageMode 'omni'. */
  omniWeight?: number;
}

/**
 * A region to repaint: a black/white mask image of the same size as the
 * image (white = repaint), or polygons as clockwise [x1,y1,x2,y2,…] in the
 * image's pixels from its top-left corner.
 */
export type EditMask = { kind: 'image'; url: string } | { kind: 'polygons'; polygons: ReadonlyArray<readonly number[]> };

export type CreateRequest =
  | {
      kind: 'imagine';
      prompt: string;
      /** Reference images (https URLs); none = text-to-image. */
      imageUrls?: readonly string[];
      imageMode?: ImageMode;
      options?: ImagineOptions;
    }
  | {
      kind: 'animate';
      imageUrl: string;
      prompt?: string;
      motion: 'high' | 'low';
      hd: boolean;
      batch: 1 | 2 | 4;
    }
  | {
      kind: 'edit';
      prompt: string;
      imageUrl: string;
      /** The image's size in pixels (Discord tells it for attachments). */
      imageSize: { width: number; height: number };
      mask: EditMask;
      options?: Pick<ImagineOptions, 'speed' | 'version'>;
    };

/** The result a follow-up acts on. */
export interface SourceRef {
  /** The provider's task id of the job whose result was acted on. */
  taskId: string;
  /** 0-based position of the image / clip in that task's results. */
  position: number;
  /** What the source task produced. */
  resultKind: ResultKind;
  /** That result's URL (animate needs it). */
  url?: string;
  /**
   * For results of an upscale: the grid task and position it was upscaled
   * from (KIE's Vary on an upscale, and APIXO's typed upscale/vary, act on
   * the grid image). Null when unknown.
   */
  grid?: { taskId: string; position: number } | null;
}

export interface FollowUpRequest {
  action: Exclude<FollowUpAction, 'reroll'>;
  source: SourceRef;
  /** Vary's optional new prompt; manual extend's continuation; animate's prompt. */
  prompt?: string;
  /** animate_*: the channel's video defaults. */
  video?: { hd: boolean; batch: 1 | 2 | 4 };
}

export interface Submitted {
  taskId: string;
}

// ---------------------------------------------------------------------------
// Task state
// ---------------------------------------------------------------------------

export const TASK_STATES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface TaskResult {
  /** The provider's URL; expires (KIE ~14 days, APIXO ~1 day): re-host promptly. */
  url: string;
  kind: 'image' | 'video';
}

export interface TaskStatus {
  taskId: string;
  state: TaskState;
  /** Empty until succeeded. A success with no results is reported as failed. */
  results: TaskResult[];
  failure: TaskFailure | null;
  /** As the provider reports them (ms since epoch / ms), for the tracker's learned timings. */
  timings: { createdAt: number | null; completedAt: number | null; costMs: number | null };
}

export {
  FAILOVER_CATEGORIES,
  PROVIDER_ERROR_CATEGORIES,
  ProviderError,
  failureOf,
  isProviderError,
  refusalOf,
  type ProviderErrorCategory,
  type ProviderErrorInit,
  type TaskFailure,
} from './providerError.js';

// ---------------------------------------------------------------------------
// The port
// ---------------------------------------------------------------------------

export interface Balance {
  /** Remaining credits in the provider's unit (may be fractional). */
  credits: number;
}

/** One account's balance and rotation state (/credits): by name, never the key. */
export interface AccountReport {
  name: string;
  /** Null when the read failed (`problem` says why). */
  credits: number | null;
  problem: string | null;
  /** False while out of rotation (it answered 401/402); `outReason` says why. */
  inRotation: boolean;
  outReason: string | null;
}

/** An account taken out of rotation or put back (the alert channel is told). */
export interface AccountChange {
  account: string;
  change: 'out' | 'back';
  /** Why, in a sentence for people (never the key). */
  reason: string;
}

export interface ImageProvider {
  readonly id: ProviderId;
  /** A human name for replies ("KIE", "APIXO"). */
  readonly displayName: string;
  readonly capabilities: ProviderCapabilities;

  /** Pure validation create/followUp run first; a ProviderError('bad_input') here means no request is sent. */
  check(request: CreateRequest | FollowUpRequest): ProviderError | null;
  create(request: CreateRequest, opts?: CreateCallOptions): Promise<Submitted>;
  followUp(request: FollowUpRequest, opts?: CreateCallOptions): Promise<Submitted>;
  status(taskId: string, opts?: ProviderCallOptions): Promise<TaskStatus>;
  balance(opts?: ProviderCallOptions): Promise<Balance>;
  /**
   * A callback body as a TaskStatus, or null when it is not one of this
   * provider's. A hint only (bodies can be forged or repeated): confirm with
   * status() before charging or delivering.
   */
  parseCallback(body: unknown): TaskStatus | null;
  /**
   * For a task nobody knows (a callback about it) and requests whose create
   * answer was lost: whether the task is each request, from what the
   * provider echoes of it. Optional: a provider that echoes nothing cannot
   * reveal lost creates.
   */
  taskMatches?(taskId: string, requests: readonly (CreateRequest | FollowUpRequest)[], opts?: ProviderCallOptions): Promise<boolean[]>;
  close?(): Promise<void>;

  /** The account names, in configured order (absent: one account). */
  readonly accounts?: readonly string[];
  /**
   * The account a job goes to: `pinned` if given and usable, else the least
   * busy usable one. Throws ProviderError('unavailable') when there is none
   * (nothing is sent).
   */
  chooseAccount?(pinned?: string): Promise<string>;
  /** Every account's balance now (reading it also puts back an account that has credits again). */
  accountReports?(opts?: ProviderCallOptions): Promise<AccountReport[]>;
  /** Told when an account is taken out of rotation or put back; returns the unsubscribe. */
  onAccountChange?(listener: (change: AccountChange) => void): () => void;
}

/** The configured providers, by id; the domain picks one per job and keeps it. */
export interface ProviderRegistry {
  readonly defaultId: ProviderId;
  get(id: ProviderId): ImageProvider | undefined;
  ids(): readonly ProviderId[];
}

export function providerRegistry(defaultId: ProviderId, providers: readonly ImageProvider[]): ProviderRegistry {
  const byId = new Map(providers.map((p) => [p.id, p] as const));
  if (!byId.has(defaultId)) throw new Error(`default provider '${defaultId}' is not configured`);
  return {
    defaultId,
    get: (id) => byId.get(id),
    ids: () => [...byId.keys()],
  };
}
