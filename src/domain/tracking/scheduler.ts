/**
 * The tracker's scheduling: when each job's next poll or delivery runs, and
 * which due polls get KIE's read budget.
 *
 * One min-heap of (dueAt, seq, jobId) — tinyqueue — and a single timer on the
 * injected Clock, armed for whatever is due first. Never a timer per job: a
 * thousand jobs cost one timer and a heap. Each job has one live entry
 * (`scheduled`); rescheduling pushes a new one and the old is skipped when
 * it surfaces.
 *
 * Two limits protect KIE: a global budget of record-info requests per
 * window (../slidingWindow.ts) and a bound on polls in flight. When more
 * polls are due than they allow, the due jobs wait in a ready set and the
 * free slots go by `pollOrder` (../pollPriority.ts): due order (a job named
 * by a callback first), or the caller's priority (urgent and starved jobs
 * first, then the likeliest done); 'auto' uses due order until more than
 * `overloadAt` polls wait, the priority beyond.
 *
 * What a poll or a delivery does is the caller's (SchedulerHooks).
 */
import TinyQueue from 'tinyqueue';
import type { Clock } from '../ports.js';
import { pickBest, type PollOrder } from '../pollPriority.js';
import { SlidingWindow } from '../slidingWindow.js';

export type Task = 'poll' | 'deliver';

export interface Entry {
  dueAt: number;
  seq: number;
  jobId: string;
  task: Task;
  /** Asked for by pollSoon (a callback): first in line for the budget. */
  urgent?: boolean;
}

export interface SchedulerHooks {
  /** Run one poll. Must not reject; the scheduler counts it in flight until it settles. */
  poll(jobId: string): Promise<void>;
  /** Start a delivery (not awaited). */
  deliver(jobId: string): void;
  /** Whether the job is still tracked (a poll asked for while one was in flight runs only then). */
  isTracked(jobId: string): boolean;
  /** With pollOrder 'likely-done': how much a poll of this entry is worth now (higher first). */
  priority(entry: Entry, now: number): number;
}

export interface SchedulerOptions {
  clock: Clock;
  /** Record-info requests allowed per `budgetWindowMs`. */
  maxPolls: number;
  budgetWindowMs: number;
  maxConcurrent: number;
  pollOrder: PollOrder;
  /** With pollOrder 'auto': rank by likely-done once more polls wait than this, else due order. */
  overloadAt: number;
  hooks: SchedulerHooks;
}

/** Due order; ties in scheduling order. */
const compare = (a: Entry, b: Entry): number => a.dueAt - b.dueAt || a.seq - b.seq;

export class PollScheduler {
  private readonly clock: Clock;
  private readonly hooks: SchedulerHooks;
  private readonly maxConcurrent: number;
  private readonly pollOrder: PollOrder;
  private readonly overloadAt: number;
  private readonly budget: SlidingWindow;
  private readonly heap = new TinyQueue<Entry>([], compare);
  /** The one live heap entry per job; any other entry for it is stale and skipped. */
  private readonly scheduled = new Map<string, Entry>();
  /** Polls that are due but wait for the budget or a concurrency slot (their entries left the heap). */
  private readonly ready = new Map<string, Entry>();
  private readonly polling = new Map<string, Promise<void>>();
  /** Jobs due for a poll (pollSoon, or their next check) while a poll of theirs was still in flight. */
  private readonly pollAgain = new Set<string>();
  private seq = 0;
  private started = false;
  private timer: unknown = null;
  private timerAt: number | null = null;

  constructor(options: SchedulerOptions) {
    this.clock = options.clock;
    this.hooks = options.hooks;
    this.maxConcurrent = Math.max(1, options.maxConcurrent);
    this.pollOrder = options.pollOrder;
    this.overloadAt = options.overloadAt;
    this.budget = new SlidingWindow({ max: Math.max(1, options.maxPolls), windowMs: options.budgetWindowMs });
  }

  /** A new poll budget (the fleet's share changed): ready polls start at once if it grew. */
  setMaxPolls(max: number): void {
    this.budget.setMax(Math.max(1, Math.floor(max)));
    if (this.started) this.pump();
  }

  schedule(jobId: string, task: Task, dueAt: number, urgent = false): void {
    const entry: Entry = { dueAt, seq: this.seq++, jobId, task, ...(urgent ? { urgent } : {}) };
    this.scheduled.set(jobId, entry);
    this.heap.push(entry);
    if (this.started) this.arm();
  }

  /** The job's live entry (its next poll or delivery), if any. */
  entry(jobId: string): Entry | undefined {
    return this.scheduled.get(jobId);
  }

  isPolling(jobId: string): boolean {
    return this.polling.has(jobId);
  }

  /** Drop everything scheduled for the job (a poll in flight finishes but is not followed up). */
  cancel(jobId: string): void {
    this.scheduled.delete(jobId);
    this.ready.delete(jobId);
    this.pollAgain.delete(jobId);
  }

  /** Drop the job's pending delivery, if that is what is scheduled. */
  cancelDelivery(jobId: string): void {
    if (this.scheduled.get(jobId)?.task === 'deliver') this.scheduled.delete(jobId);
  }

  /** The job no longer waits for a poll slot. */
  unready(jobId: string): void {
    this.ready.delete(jobId);
  }

  /** Poll as soon as the budget allows (a callback said the task changed); after the poll in flight, if any. */
  pollSoon(jobId: string): void {
    if (this.polling.has(jobId)) {
      this.pollAgain.add(jobId);
      return;
    }
    const current = this.scheduled.get(jobId);
    if (current?.task !== 'poll') return;
    const now = this.clock.now();
    if (current.dueAt > now || !current.urgent) this.schedule(jobId, 'poll', now, true);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pump();
  }

  stop(): void {
    this.started = false;
    this.disarm();
  }

  inFlight(): Promise<void>[] {
    return [...this.polling.values()];
  }

  stats(): { scheduled: number; polling: number } {
    return { scheduled: this.scheduled.size, polling: this.polling.size };
  }

  /** The first live entry, dropping stale ones. */
  private peek(): Entry | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top || this.scheduled.get(top.jobId) === top) return top;
      this.heap.pop();
    }
  }

  /** Start everything that is due and allowed, then arm the timer for what comes next. */
  private pump(): void {
    if (!this.started) return;
    const now = this.clock.now();
    for (;;) {
      const top = this.peek();
      if (!top || top.dueAt > now) break;
      this.heap.pop();
      if (top.task === 'deliver') {
        this.scheduled.delete(top.jobId);
        this.hooks.deliver(top.jobId);
      } else if (this.polling.has(top.jobId)) {
        // Its previous poll is still settling: run this one right after it.
        this.scheduled.delete(top.jobId);
        this.pollAgain.add(top.jobId);
      } else {
        this.ready.set(top.jobId, top); // still the job's scheduled entry, until its poll starts
      }
    }
    this.startReadyPolls(now);
    this.arm();
  }

  /**
   * Start as many ready polls as the budget and the concurrency bound allow:
   * all of them if they fit, else the best by `pollOrder`.
   */
  private startReadyPolls(now: number): void {
    if (this.ready.size === 0) return;
    const live: Entry[] = [];
    for (const [jobId, entry] of this.ready) {
      if (this.scheduled.get(jobId) === entry && !this.polling.has(jobId)) live.push(entry);
      else this.ready.delete(jobId);
    }
    const slots = Math.min(this.maxConcurrent - this.polling.size, this.budget.available(now));
    if (slots <= 0 || live.length === 0) return;
    let chosen: Entry[];
    if (live.length <= slots) chosen = live.sort(compare);
    else if (this.pollOrder === 'due' || (this.pollOrder === 'auto' && live.length <= this.overloadAt)) {
      chosen = pickBest(live, slots, (e) => (e.urgent ? 1 : 0));
    }
    else chosen = pickBest(live, slots, (e) => this.hooks.priority(e, now));
    for (const entry of chosen) {
      this.ready.delete(entry.jobId);
      this.scheduled.delete(entry.jobId);
      this.budget.take(now);
      this.startPoll(entry.jobId);
    }
  }

  private startPoll(jobId: string): void {
    const p = this.hooks.poll(jobId).finally(() => {
      if (this.polling.get(jobId) === p) this.polling.delete(jobId);
      // Asked for again while in flight: poll now, unless it is already waiting to be delivered.
      if (this.pollAgain.delete(jobId) && this.hooks.isTracked(jobId) && this.scheduled.get(jobId)?.task !== 'deliver') {
        this.schedule(jobId, 'poll', this.clock.now());
      }
      this.pump();
    });
    this.polling.set(jobId, p);
  }

  /** One timer for the whole tracker: at the next due entry, or the next budget slot if that is later. */
  private arm(): void {
    if (!this.started) return;
    const top = this.peek();
    const now = this.clock.now();
    let wakeAt: number | null = null;
    if (top) {
      const blockedByConcurrency = top.task === 'poll' && top.dueAt <= now && this.polling.size >= this.maxConcurrent;
      if (!blockedByConcurrency) {
        wakeAt = top.task === 'poll' ? Math.max(top.dueAt, this.budget.nextSlot(now)) : top.dueAt;
      }
    }
    // Ready polls wait for the next budget slot (a finishing poll pumps when concurrency is what holds them).
    if (this.ready.size > 0 && this.polling.size < this.maxConcurrent) {
      const slot = Math.max(now + 1, this.budget.nextSlot(now));
      wakeAt = wakeAt === null ? slot : Math.min(wakeAt, slot);
    }
    if (wakeAt === this.timerAt) return;
    this.disarm();
    if (wakeAt === null) return;
    this.timerAt = wakeAt;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = null;
      this.pump();
    }, Math.max(0, wakeAt - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = null;
  }
}
