import { describe, expect, it } from 'vitest';
import { PeriodicRound } from '../../src/domain/periodic.js';
import { ManualClock } from '../support/manualClock.js';

describe('PeriodicRound', () => {
  it('runs a round at start, then one per period, never two at once', async () => {
    const clock = new ManualClock(0);
    let rounds = 0;
    let release: (() => void) | null = null;
    const loop = new PeriodicRound({
      clock,
      everyMs: 1_000,
      round: () => {
        rounds++;
        return rounds === 2 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
      onError: () => {},
    });
    await loop.start();
    expect(rounds).toBe(1);
    await clock.advance(1_000);
    expect(rounds).toBe(2);
    // The second round hangs: ticks join it and no timer starts a third.
    const joined = loop.tick();
    await clock.advance(5_000);
    expect(rounds).toBe(2);
    release!();
    await joined;
    await clock.advance(1_000);
    expect(rounds).toBe(3);
    await loop.stop();
  });

  it('reports a failed round and keeps going; stop ends the loop', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    let rounds = 0;
    const loop = new PeriodicRound({
      clock,
      everyMs: 1_000,
      round: async () => {
        rounds++;
        if (rounds === 1) throw new Error('database away');
      },
      onError: (e) => errors.push(e),
    });
    expect(loop.stopped).toBe(true);
    await loop.start();
    expect(errors).toHaveLength(1);
    await clock.advance(1_000);
    expect(rounds).toBe(2);
    await loop.stop();
    expect(loop.stopped).toBe(true);
    await clock.advance(5_000);
    expect(rounds).toBe(2);
  });
});
