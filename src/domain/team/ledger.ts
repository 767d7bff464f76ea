/**
 * The ledger: one line per job (commands and buttons alike), the single
 * source for limits, budgets and reports. A line is written when a job is
 * admitted (so the admission itself reserves the credits) and updated on
 * every state change after that.
 *
 * The lines live in SQL (src/store/sql/team.ts) behind the TeamStore port;
 * sums and reports are aggregates the database computes over indexed
 * columns, and nothing is held in memory.
 */
import type { Speed } from '../midjourney.js';
import { isTerminal, policyChannelOf, type Job, type JobKind, type JobState } from '../job.js';

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
  /** Only lines in this state. */
  state?: JobState;
}

export function matches(e: LedgerEntry, f: LedgerFilter): boolean {
  return (
    (f.guildId === undefined || e.guildId === f.guildId) &&
    (f.channelId === undefined || e.channelId === f.channelId) &&
    (f.userId === undefined || e.userId === f.userId) &&
    (f.since === undefined || e.createdAt >= f.since) &&
    (f.until === undefined || e.createdAt < f.until) &&
    (f.state === undefined || e.state === f.state)
  );
}

/** What the ledger says about a channel at the moment of a decision. */
export interface ChannelUsage {
  spentToday: number;
  spentThisMonth: number;
  /** Jobs the deciding user started in this channel today (UTC). */
  userJobsToday: number;
  /** Jobs holding a concurrency slot (pending or running). */
  active: number;
  /** Jobs waiting in the queue. */
  waiting: number;
}

export interface ChannelUsageQuery {
  userId: string;
  now: number;
  countFailed: boolean;
  /** Leave out the job being decided, so asking twice about the same job counts it once. */
  excludeJobId?: string;
}

/** One usage table row: a channel or a user, its jobs (cancelled left out) and counted credits. */
export interface LedgerRow {
  id: string;
  jobs: number;
  credits: number;
}

/** Totals behind a /usage report, aggregated by the database. */
export interface LedgerReport {
  jobs: number;
  failed: number;
  cancelled: number;
  credits: number;
  byChannel: LedgerRow[];
  byUser: LedgerRow[];
}

/**
 * Reading the ledger. Every method is one indexed query (channel, guild,
 * user, created_at): nothing loads the ledger whole.
 */
export interface LedgerReader {
  get(jobId: string): Promise<LedgerEntry | undefined>;
  /** Every line matching a filter (any order). Unfiltered calls read everything: use for exports only. */
  query(filter: LedgerFilter): Promise<LedgerEntry[]>;
  /** Report totals for a filter (SQL aggregates); rows most credits first, then most jobs, then id. */
  report(filter: LedgerFilter, countFailed: boolean): Promise<LedgerReport>;
  /** Counted credits and counted jobs of lines matching a filter. */
  spent(filter: LedgerFilter, countFailed: boolean): Promise<{ credits: number; jobs: number }>;
  /** When the oldest line was admitted, or null for an empty ledger. */
  earliest(): Promise<number | null>;
  /** Lines still queued, pending or running (for reconciling after a restart). */
  open(): Promise<LedgerEntry[]>;
}

/** A channel's waiting line, inside that channel's transaction. */
export interface QueueTx {
  /** The waiting jobs, oldest first. */
  list(): Promise<Job[]>;
  /** Append (or keep its place if already waiting); returns the 1-based position. */
  enqueue(job: Job): Promise<number>;
  /** Replace the stored copy of a waiting job; false if it isn't waiting. */
  update(job: Job): Promise<boolean>;
  /** Take jobs out of the line; returns how many were there. */
  remove(jobIds: readonly string[]): Promise<number>;
}

/** One channel's ledger and queue inside one transaction (see TeamStore.inChannel). */
export interface ChannelTx {
  usage(q: ChannelUsageQuery): Promise<ChannelUsage>;
  /** Jobs holding a slot (pending or running). */
  activeCount(): Promise<number>;
  get(jobId: string): Promise<LedgerEntry | undefined>;
  /** Write (or merge into, see mergeEntry) a line. */
  put(update: LedgerEntry): Promise<LedgerEntry>;
  readonly queue: QueueTx;
}

/**
 * The ledger and the queues. Every decision runs in `inChannel`: one
 * database transaction holding the channel (a locked row on PostgreSQL,
 * the write lock on SQLite), so two admissions racing for the last credit,
 * from this process or another, are decided one after the other.
 */
export interface TeamStore {
  readonly ledger: LedgerReader;
  inChannel<T>(channelId: string, fn: (tx: ChannelTx) => Promise<T>): Promise<T>;
  /** Read-only views of the queues, outside any decision. */
  readonly queues: {
    list(channelId: string): Promise<Job[]>;
    position(channelId: string, jobId: string): Promise<number | null>;
    /** Channels that have someone waiting. */
    channels(): Promise<string[]>;
  };
}

/** Credits as people read them: whole numbers plain, fractions to two places. */
export function formatCredits(n: number): string {
  const r = roundCredits(n);
  return Number.isInteger(r) ? String(r) : r.toFixed(2);
}
