/**
 * The fleet-wide status-read budget: each live process polls at
 * floor(KIE_POLLS_PER_SECOND / live processes), counted from heartbeat rows
 * (table fleet_members). On both backends with the real SQL members; on
 * PostgreSQL with one store (one pool) per process, as separate processes
 * would have. Time is a manual clock: beats happen when the test says.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PollShare, shareOf } from '../../../src/domain/pollShare.js';
import { SqlFleetMembers } from '../../../src/store/sql/fleetMembers.js';
import { openStore, type OpenedStore } from '../../../src/store/store.js';
import { storeBackends, type TestDatabase } from '../../support/backends.js';
import { ManualClock } from '../../support/manualClock.js';

describe('shareOf', () => {
  it('splits the budget evenly, rounding down, never below one read per second', () => {
    expect(shareOf(8, 1)).toBe(8);
    expect(shareOf(8, 2)).toBe(4);
    expect(shareOf(8, 3)).toBe(2);
    expect(shareOf(8, 0)).toBe(8);
    expect(shareOf(8, 20)).toBe(1);
  });
});

describe.each(storeBackends())('fleet-wide read budget on %s', (backend) => {
  let db: TestDatabase;
  const stores: OpenedStore[] = [];
  beforeEach(async () => {
    db = await backend.create();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await db.drop();
  });

  /**
   * A process: its own store (pool), clock, members and share. Each has its own
   * clock so a killed one can stop beating (its clock no longer moves) without leaving.
   */
  async function processOn(owner: string) {
    // SQLite is one process's database: its "processes" share one store here.
    const store = backend.name === 'sqlite' && stores.length > 0 ? stores[0]! : await openStore(db.url, { poolSize: 2 });
    if (!stores.includes(store)) stores.push(store);
    const clock = new ManualClock(now);
    const shares: number[] = [];
    const share = new PollShare({ members: new SqlFleetMembers(store.sql), owner, clock, total: 8, everyMs: 3_000, onShare: (n) => shares.push(n) });
    return { share, shares, clock };
  }
  let now = Date.UTC(2026, 0, 1);
  type Proc = Awaited<ReturnType<typeof processOn>>;
  /** Time passes for the living: their beats run (and are awaited). */
  async function advance(ms: number, ...living: Proc[]): Promise<void> {
    now += ms;
    for (const p of living) await p.clock.advance(ms);
    await Promise.all(living.map((p) => p.share.tick()));
  }

  it('one process takes the whole budget, two take half each, three a third (rounded down); a stopped one leaves at once, a dead one stops counting after staleMs', async () => {
    const a = await processOn('a');
    await a.share.start();
    expect(a.shares).toEqual([8]);

    const b = await processOn('b');
    await b.share.start();
    expect(b.shares).toEqual([4]);
    await advance(3_000, a, b); // a's next beat counts b
    expect(a.share.perSecond).toBe(4);

    const c = await processOn('c');
    await c.share.start();
    await advance(3_000, a, b, c);
    expect([a.share.perSecond, b.share.perSecond, c.share.perSecond]).toEqual([2, 2, 2]);
    // Never more than the fleet's budget in total.
    expect(a.share.perSecond + b.share.perSecond + c.share.perSecond).toBeLessThanOrEqual(8);

    // c stops (SIGTERM): its row goes at once.
    await c.share.stop();
    await advance(3_000, a, b);
    expect([a.share.perSecond, b.share.perSecond]).toEqual([4, 4]);

    // b dies (kill -9): it stops beating, and stops counting after staleMs (3 beats + 1 s).
    await advance(9_000, a);
    expect(a.share.perSecond).toBe(4);
    await advance(3_000, a);
    expect(a.share.perSecond).toBe(8);
    expect(a.shares).toEqual([8, 4, 2, 4, 8]);
    await a.share.stop();
    await b.share.stop();
  });
});
