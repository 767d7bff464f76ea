/**
 * The ledger: one line per job (commands and buttons alike), the single
 * source for limits, budgets and reports. A line is written when a job is
 * admitted (so the admission itself reserves the credits) and updated on
 * every state change after that.
 *
 * The store ('ledger' collection, key = job id) is the truth; an in-memory
 * copy, loaded once by `Ledger.open`, answers the per-admission sums without
 * reading every line from SQLite each time. That copy is only right while one
 * process owns the store, which is how the bot runs.
 */
import type { Speed } from '../midjourney.js';
import { isTerminal, policyChannelOf, type Job, type JobKind, type JobState } from '../job.js';
import type { Collection } from '../../store/store.js';

export interface LedgerEntry {
  jobId: string;
  guildId: string | null;
  channelId: string;
  userId: string;
  kind: JobKind;
  speed: Speed | null;
  /** Estimated credits, from the price table when the job was made. */
  credits: number;
  taskId: string | null;
  state: JobState;
  /** When the job was admitted (ms). Day and month accounting go by this. */
  createdAt: number;
  finishedAt: number | null;
}

export const DAY_MS = 86_400_000;

/** 00:00 UTC of the day containing `t`. Budgets and daily limits reset then. */
export const utcDayStart = (t: number): number => t - (((t % DAY_MS) + DAY_MS) % DAY_MS);

/** 00:00 UTC on the 1st of the month containing `t`. */
export function utcMonthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** 00:00 UTC on the 1st of the next month. */
export function nextUtcMonthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The ledger line for a job as it is now. `now` stamps finishedAt if a terminal job lacks one. */
export function entryFromJob(job: Job, now: number): LedgerEntry {
  return {
    jobId: job.id,
    guildId: job.origin.guildId,
    // Threads and forum posts count in their parent channel.
    channelId: policyChannelOf(job.origin),
    userId: job.origin.userId,
    kind: job.kind,
    speed: job.speed,
    credits: job.estimatedCredits,
    taskId: job.taskId,
    state: job.state,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt ?? (isTerminal(job.state) ? now : null),
  };
}

/** How far along a state is; a ledger line never moves backwards (late or repeated updates are harmless). */
const STATE_RANK: Record<JobState, number> = {
  queued: 0,
  pending: 1,
  // Sent, answer lost: ahead of pending, behind running (its task may still be revealed).
  unknown: 1.5,
  running: 2,
  succeeded: 3,
  failed: 3,
  cancelled: 3,
};

/**
 * Combine a stored line with an update: the state only moves forwards (a
 * terminal state is final), known fields are never replaced by null, and the
 * admission time is kept.
 */
export function mergeEntry(previous: LedgerEntry | undefined, update: LedgerEntry): LedgerEntry {
  if (!previous) return update;
  const forward =
    STATE_RANK[update.state] > STATE_RANK[previous.state] ||
    (STATE_RANK[update.state] === STATE_RANK[previous.state] && !isTerminal(previous.state));
  return {
    ...previous,
    ...update,
    state: forward ? update.state : previous.state,
    taskId: update.taskId ?? previous.taskId,
    createdAt: previous.createdAt,
    finishedAt: forward ? (update.finishedAt ?? previous.finishedAt) : previous.finishedAt,
  };
}

/** Holds one of the channel's concurrency slots. */
export const isActive = (e: Pick<LedgerEntry, 'state'>): boolean => e.state === 'pending' || e.state === 'running';

/**
 * THE counting rule (port it as is to any store): which states count against
 * budgets and daily limits. `never`: cancelled jobs never reached KIE.
 * `ifCountFailed`: failed jobs count only when the channel's `countFailed`
 * is set. Every other state always counts: queued and pending (credits
 * reserved at admission), running, succeeded, and unknown — a create whose
 * answer was lost may have been charged, so it counts whatever
 * `countFailed` says.
 */
export const COUNTING_RULE = {
  never: ['cancelled'],
  ifCountFailed: ['failed'],
} as const satisfies Record<string, readonly JobState[]>;

export function counts(e: Pick<LedgerEntry, 'state'>, countFailed: boolean): boolean {
  if ((COUNTING_RULE.never as readonly JobState[]).includes(e.state)) return false;
  if ((COUNTING_RULE.ifCountFailed as readonly JobState[]).includes(e.state)) return countFailed;
  return true;
}

/** Sum of credits of the lines that count. Rounded to 1/100 to keep float sums tidy. */
export function sumCredits(entries: Iterable<LedgerEntry>, countFailed: boolean): number {
  let total = 0;
  for (const e of entries) if (counts(e, countFailed)) total += e.credits;
  return roundCredits(total);
}

export const roundCredits = (n: number): number => Math.round(n * 100) / 100;

export interface LedgerFilter {
  guildId?: string | null;
  channelId?: string;
  userId?: string;
  /** createdAt ≥ since (ms) */
  since?: number;
  /** createdAt < until (ms) */
  until?: number;
}

export function matches(e: LedgerEntry, f: LedgerFilter): boolean {
  return (
    (f.guildId === undefined || e.guildId === f.guildId) &&
    (f.channelId === undefined || e.channelId === f.channelId) &&
    (f.userId === undefined || e.userId === f.userId) &&
    (f.since === undefined || e.createdAt >= f.since) &&
    (f.until === undefined || e.createdAt < f.until)
  );
}

export class Ledger {
  private readonly byJob = new Map<string, LedgerEntry>();
  private readonly byChannel = new Map<string, Map<string, LedgerEntry>>();

  private constructor(private readonly collection: Collection<LedgerEntry>) {}

  /** Load every line from the store into memory; call once at startup. */
  static async open(collection: Collection<LedgerEntry>): Promise<Ledger> {
    const ledger = new Ledger(collection);
    for await (const [, entry] of collection.entries()) ledger.remember(entry);
    return ledger;
  }

  get(jobId: string): LedgerEntry | undefined {
    return this.byJob.get(jobId);
  }

  /** Write (or merge into) a line: the store first, then memory, so memory never claims what isn't saved. */
  async put(update: LedgerEntry): Promise<LedgerEntry> {
    const next = mergeEntry(this.byJob.get(update.jobId), update);
    await this.collection.set(next.jobId, next);
    this.remember(next);
    return next;
  }

  /** The lines of one channel (any order). */
  channel(channelId: string): LedgerEntry[] {
    return [...(this.byChannel.get(channelId)?.values() ?? [])];
  }

  /** Every line matching a filter (any order). */
  query(filter: LedgerFilter = {}): LedgerEntry[] {
    const pool = filter.channelId !== undefined ? this.channel(filter.channelId) : this.byJob.values();
    const out: LedgerEntry[] = [];
    for (const e of pool) if (matches(e, filter)) out.push(e);
    return out;
  }

  get size(): number {
    return this.byJob.size;
  }

  private remember(entry: LedgerEntry): void {
    const previous = this.byJob.get(entry.jobId);
    if (previous && previous.channelId !== entry.channelId) this.byChannel.get(previous.channelId)?.delete(entry.jobId);
    this.byJob.set(entry.jobId, entry);
    let channel = this.byChannel.get(entry.channelId);
    if (!channel) {
      channel = new Map();
      this.byChannel.set(entry.channelId, channel);
    }
    channel.set(entry.jobId, entry);
  }
}

/** Credits as people read them: whole numbers plain, fractions to two places. */
export function formatCredits(n: number): string {
  const r = roundCredits(n);
  return Number.isInteger(r) ? String(r) : r.toFixed(2);
}
