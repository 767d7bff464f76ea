/**
 * Pending batches: a command that would make several jobs (permutations,
 * `--repeat`) or one job above the channel's confirm threshold first asks
 * its author to Confirm or Cancel. What was asked for waits here, in SQL
 * (src/store/sql/batches.ts), so the buttons work from any process and after
 * a restart, until the batch expires.
 *
 * Deciding a batch is one conditional update (open → confirmed, or open →
 * cancelled, only while unexpired): of two clicks, in one process or two,
 * exactly one wins, so a batch is never admitted twice.
 */
import type { JobDraftFields } from './job.js';

/** How long a batch waits for its author's decision. */
export const BATCH_TTL_MS = 15 * 60_000;

export const BATCH_STATES = ['open', 'confirmed', 'cancelled'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

/** One job of a batch, as the command built it; its origin is filled in when the batch is confirmed. */
export type BatchDraft = Omit<JobDraftFields, 'origin'>;

/** Why the batch asks first. */
export type BatchReason = 'batch' | 'expensive';

export interface PendingBatch {
  id: string;
  guildId: string | null;
  /** The channel whose policy applies (a thread's parent). */
  channelId: string;
  /** The author: the only one who may confirm or cancel it. */
  userId: string;
  /** The prompt as typed, for the messages. */
  promptText: string;
  reason: BatchReason;
  drafts: BatchDraft[];
  /**
   * For a button's job (a batch of one): the press it stands for, claimed on
   * Confirm as the button itself would (one job per result, action and position),
   * and the message the button was on, which Confirm marks as the press would have
   * (a used U turns blue). Batches saved without it fall back to the result's own message.
   */
  claim?: { parentId: string; action: string; position: number; pressedOn?: { channelId: string; messageId: string } };
  createdAt: number;
  expiresAt: number;
}

export interface StoredBatch extends PendingBatch {
  state: BatchState;
}

export interface BatchStore {
  save(batch: PendingBatch): Promise<void>;
  get(id: string): Promise<StoredBatch | undefined>;
  /**
   * Decide an open batch: true only for the one call that moved it from
   * open (and unexpired at `now`) to `to`.
   */
  decide(id: string, to: 'confirmed' | 'cancelled', now: number): Promise<boolean>;
  /** A confirmed batch whose admission was refused goes back to open, so its author may try again or cancel. */
  reopen(id: string): Promise<void>;
}

/** The sum of a batch's estimates. */
export function batchCredits(drafts: ReadonlyArray<Pick<BatchDraft, 'estimatedCredits'>>): number {
  return Math.round(drafts.reduce((sum, d) => sum + d.estimatedCredits, 0) * 100) / 100;
}

/** What a press on a batch that is not open (any more) is told. */
export function closedBatchMessage(batch: Pick<StoredBatch, 'state' | 'expiresAt'>, now: number): string | null {
  if (batch.state === 'confirmed') return 'This batch was already confirmed; its jobs have their own messages.';
  if (batch.state === 'cancelled') return 'This batch was cancelled; nothing was started. Run /imagine again to make it.';
  if (now >= batch.expiresAt) {
    return `This batch expired (a batch waits ${BATCH_TTL_MS / 60_000} minutes for its confirmation); nothing was started. Run /imagine again to make it.`;
  }
  return null;
}
