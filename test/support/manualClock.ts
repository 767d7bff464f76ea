/**
 * A Clock with virtual time for tests. Nothing fires until the test calls
 * `advance(ms)`, which runs due timers in time order and lets the async work
 * they start settle between them, so a test reads like a timeline:
 *
 *   await clock.advance(30_000); // the first poll happens and is handled
 *
 * "Settle" means: a few macrotask turns (promise chains, in-process I/O), and
 * then any waits the test registered with `settleWith` (e.g. the tracker's
 * idle(), which covers real HTTP to the local KIE server).
 */
import type { Clock } from '../../src/domain/ports.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ManualClock implements Clock {
  private t: number;
  private nextId = 1;
  private timers: Timer[] = [];
  private settlers: Array<() => Promise<unknown>> = [];

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.t = start;
  }

  /** Bound, so `now: clock.now` can be handed around. */
  readonly now = (): number => this.t;

  setTimeout(fn: () => void, ms: number): unknown {
    const timer: Timer = { id: this.nextId++, at: this.t + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }

  /** Also wait for these after every timer (e.g. `() => tracker.idle()`). */
  settleWith(fn: () => Promise<unknown>): void {
    this.settlers.push(fn);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** When the next timer fires, or null. */
  get nextAt(): number | null {
    return this.timers.reduce<number | null>((min, x) => (min === null || x.at < min ? x.at : min), null);
  }

  /** Let async work started so far run to completion. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await turn();
    for (const s of this.settlers) await s();
    for (let i = 0; i < 5; i++) await turn();
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await this.settle();
    for (;;) {
      const next = this.earliestDue(target);
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
      await this.settle();
    }
    this.t = Math.max(this.t, target);
    await this.settle();
  }

  /** Advance until `done()` holds (checked after every timer), or throw after `maxMs` of virtual time. */
  async advanceUntil(done: () => boolean, maxMs: number, stepMs = 1_000): Promise<void> {
    const limit = this.t + maxMs;
    while (!done()) {
      if (this.t >= limit) throw new Error(`condition not met within ${maxMs} ms of virtual time`);
      await this.advance(Math.min(stepMs, limit - this.t));
    }
  }

  private earliestDue(target: number): Timer | undefined {
    let best: Timer | undefined;
    for (const x of this.timers) {
      if (x.at <= target && (!best || x.at < best.at || (x.at === best.at && x.id < best.id))) best = x;
    }
    return best;
  }
}
