/**
 * The learned-timings harness (bench/scenarios/learnRun.ts) must not rot:
 * a handful of jobs in virtual time through the real tracker, burst and
 * steady (jobs kept in flight). No figures are judged here, only that
 * every job is seen once and the steady mode keeps its bound.
 */
import { describe, expect, it } from 'vitest';
import { pressureLoad, runOne } from '../../bench/scenarios/learn.js';

describe('learned-timings harness', () => {
  it('sees every job of a small burst exactly once, after KIE finished it', async () => {
    const jobs = pressureLoad('uniform', 12, 2_000, 7);
    const { outcomes } = await runOne(jobs, { order: 'auto', learn: true });
    expect(outcomes).toHaveLength(12);
    for (const o of outcomes) expect(o.seenAt).toBeGreaterThanOrEqual(o.finishAt);
  });

  it('steady mode keeps at most N jobs in flight and replaces each job seen done', async () => {
    const jobs = pressureLoad('peaked', 15, 1_000, 8);
    const { outcomes, peakInFlight } = await runOne(jobs, { order: 'due', learn: false }, { keepInFlight: 4 });
    expect(outcomes).toHaveLength(15);
    expect(peakInFlight).toBeLessThanOrEqual(4);
    // A later job is created only once an earlier one was seen done.
    const byIndex = [...outcomes].sort((a, b) => a.job.index - b.job.index);
    const seen = byIndex.map((o) => o.seenAt).sort((a, b) => a - b);
    for (let i = 4; i < byIndex.length; i++) expect(byIndex[i]!.createdAt).toBeGreaterThanOrEqual(seen[i - 4]!);
  });
});
