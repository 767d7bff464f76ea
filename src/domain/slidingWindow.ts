/**
 * The one sliding-window limit of the bot: at most `max` events in any
 * `windowMs`. Used for KIE's create limit (../providers/kie/limiter.ts, which
 * adds FIFO waiting), the tracker's poll budget and per-channel edit budget
 * (./tracking/), and the simulators' 429s.
 *
 * Each event is a grant that counts from when it is taken until `windowMs`
 * after it is released, and for as long as it is not released. An event
 * that is instant (a poll slot, an edit slot, a simulated request) is
 * released when taken. Why release at all: KIE counts a create when it
 * *arrives*, somewhere between our send and its answer, so counting until
 * windowMs after the answer makes the limit hold whatever the latency.
 *
 * The math is pure functions over an immutable list of grants;
 * `SlidingWindow` keeps one list for synchronous callers.
 */

export interface WindowLimit {
  /** Grants allowed in any window. */
  max: number;
  windowMs: number;
}

export interface WindowGrant {
  id: number;
  at: number;
  /** When the request finished (answer or failure); null while in flight. */
  doneAt: number | null;
}

/** When a grant stops counting: windowMs after it finished; never while in flight. */
const leavesAt = (g: WindowGrant, windowMs: number): number =>
  g.doneAt === null ? Number.POSITIVE_INFINITY : g.doneAt + windowMs;

/** Grants still counting at `now` (a grant released exactly windowMs ago has left). */
export const windowGrants = (grants: readonly WindowGrant[], now: number, windowMs: number): WindowGrant[] =>
  grants.filter((g) => leavesAt(g, windowMs) > now);

/**
 * Ms until a new grant keeps at most `max` counting: 0 while fewer are,
 * else until enough of them leave; Infinity when that needs an in-flight
 * request to finish first.
 */
export function windowWaitMs(grants: readonly WindowGrant[], now: number, limit: WindowLimit): number {
  const live = windowGrants(grants, now, limit.windowMs);
  if (live.length < limit.max) return 0;
  const leaving = live.map((g) => leavesAt(g, limit.windowMs)).sort((a, b) => a - b);
  const until = leaving[live.length - limit.max] ?? now;
  return Math.max(0, until - now);
}

/** Records grant `id` at `now` (in flight), forgetting grants that no longer count. */
export const windowTake = (grants: readonly WindowGrant[], now: number, limit: WindowLimit, id: number): WindowGrant[] => [
  ...windowGrants(grants, now, limit.windowMs),
  { id, at: now, doneAt: null },
];

/** Marks grant `id` finished at `now` (a second release changes nothing). */
export const windowRelease = (grants: readonly WindowGrant[], id: number, now: number): WindowGrant[] =>
  grants.map((g) => (g.id === id && g.doneAt === null ? { ...g, doneAt: now } : g));

export function checkWindowLimit(limit: WindowLimit): void {
  if (!(limit.max >= 1) || !(limit.windowMs > 0)) throw new RangeError('window limit needs max ≥ 1 and windowMs > 0');
}

/** A sliding window of instant events (each released when taken), for synchronous callers. */
export class SlidingWindow {
  private grants: readonly WindowGrant[] = [];
  private nextId = 1;

  constructor(private limit: WindowLimit) {
    checkWindowLimit(limit);
  }

  /** A new `max` from now on (a fleet's share of a budget changed); events already counted still count. */
  setMax(max: number): void {
    const limit = { ...this.limit, max };
    checkWindowLimit(limit);
    this.limit = limit;
  }

  /** The earliest time an event may happen, at or after `now`. */
  nextSlot(now: number): number {
    this.grants = windowGrants(this.grants, now, this.limit.windowMs);
    return now + windowWaitMs(this.grants, now, this.limit);
  }

  /** Record an event at `now` (whether or not the window had room; see tryTake). */
  take(now: number): void {
    const id = this.nextId++;
    this.grants = windowRelease(windowTake(this.grants, now, this.limit, id), id, now);
  }

  /** Record an event at `now` if the window has room; whether it had. A refused event is not recorded. */
  tryTake(now: number): boolean {
    if (this.nextSlot(now) > now) return false;
    this.take(now);
    return true;
  }

  /** Events allowed right now. */
  available(now: number): number {
    this.grants = windowGrants(this.grants, now, this.limit.windowMs);
    return Math.max(0, this.limit.max - this.grants.length);
  }

  /** No event counts any more (as of the last call). */
  get empty(): boolean {
    return this.grants.length === 0;
  }
}
