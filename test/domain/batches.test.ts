/** Pending batches' pure helpers: the total, and what a press on a closed batch is told. */
import { describe, expect, it } from 'vitest';
import { BATCH_TTL_MS, batchCredits, closedBatchMessage } from '../../src/domain/batches.js';

describe('batches', () => {
  it('sums estimates to the cent', () => {
    expect(batchCredits([{ estimatedCredits: 0.1 }, { estimatedCredits: 0.2 }, { estimatedCredits: 8 }])).toBe(8.3);
    expect(batchCredits([])).toBe(0);
  });

  it('says why a batch can no longer be decided', () => {
    const open = { state: 'open' as const, expiresAt: 1_000 + BATCH_TTL_MS };
    expect(closedBatchMessage(open, 1_000)).toBeNull();
    expect(closedBatchMessage(open, 1_000 + BATCH_TTL_MS)).toMatch(/expired \(a batch waits 15 minutes/);
    expect(closedBatchMessage({ ...open, state: 'confirmed' }, 0)).toMatch(/already confirmed/);
    expect(closedBatchMessage({ ...open, state: 'cancelled' }, 0)).toMatch(/was cancelled/);
  });
});
