import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRICES,
  PriceTableSchema,
  estimateCredits,
  parsePriceTable,
  type PriceFactors,
} from '../../src/domain/pricing.js';
import { JOB_KINDS, type JobKind } from '../../src/domain/job.js';

describe('DEFAULT_PRICES', () => {
  it('holds the NOTES.md figures and the chosen guesses', () => {
    expect(DEFAULT_PRICES).toEqual({
      grid: { relaxed: 3, fast: 8, turbo: 16 },
      vary: { relaxed: 3, fast: 8, turbo: 16 },
      upscale: 4,
      video: { sd: 15, hd: 45 },
      extend: 15,
      unknownSpeed: 'fast',
    });
  });

  it('cannot be changed by accident', () => {
    expect(Object.isFrozen(DEFAULT_PRICES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_PRICES.grid)).toBe(true);
    expect(Object.isFrozen(DEFAULT_PRICES.video)).toBe(true);
  });
});

describe('estimateCredits', () => {
  const cases: Array<[JobKind, PriceFactors, number]> = [
    ['grid', { speed: 'relaxed' }, 3],
    ['grid', { speed: 'fast' }, 8],
    ['grid', { speed: 'turbo' }, 16],
    ['grid', { speed: null }, 8], // omni reference: KIE picks the speed; priced as fast
    ['vary', { speed: 'relaxed' }, 3],
    ['vary', { speed: 'turbo' }, 16],
    ['vary', { speed: null }, 8],
    ['upscale', { speed: 'turbo' }, 4],
    ['upscale', { speed: null }, 4],
    ['video', { speed: null }, 15],
    ['video', { speed: null, videoBatchSize: null }, 15],
    ['video', { speed: null, videoBatchSize: 1 }, 15],
    ['video', { speed: null, videoBatchSize: 2 }, 30],
    ['video', { speed: null, videoBatchSize: 4 }, 60],
    ['video_hd', { speed: null, videoBatchSize: 1 }, 45],
    ['video_hd', { speed: null, videoBatchSize: 4 }, 180],
    ['extend', { speed: null }, 15],
  ];
  it.each(cases)('%s %j → %d', (kind, factors, expected) => {
    expect(estimateCredits(kind, factors)).toBe(expected);
  });

  it('has a finite, non-negative price for every job kind', () => {
    for (const kind of JOB_KINDS) {
      const price = estimateCredits(kind, { speed: 'fast', videoBatchSize: 2 });
      expect(Number.isFinite(price)).toBe(true);
      expect(price).toBeGreaterThanOrEqual(0);
    }
  });

  it('uses the table it is given', () => {
    const table = PriceTableSchema.parse({
      grid: { fast: 10 },
      vary: { turbo: 1.5 },
      upscale: 2,
      video: { hd: 50.25 },
      extend: 20,
      unknownSpeed: 'turbo',
    });
    expect(estimateCredits('grid', { speed: 'fast' }, table)).toBe(10);
    expect(estimateCredits('grid', { speed: null }, table)).toBe(16);
    expect(estimateCredits('vary', { speed: 'turbo' }, table)).toBe(1.5);
    expect(estimateCredits('upscale', { speed: 'fast' }, table)).toBe(2);
    expect(estimateCredits('video', { speed: null, videoBatchSize: 2 }, table)).toBe(30);
    expect(estimateCredits('video_hd', { speed: null, videoBatchSize: 2 }, table)).toBe(100.5);
    expect(estimateCredits('extend', { speed: null }, table)).toBe(20);
  });
});

describe('PriceTableSchema', () => {
  it('an empty object gives the defaults', () => {
    expect(PriceTableSchema.parse({})).toEqual(DEFAULT_PRICES);
  });

  it('overrides one price and keeps the others', () => {
    const table = PriceTableSchema.parse({ grid: { turbo: 20 } });
    expect(table.grid).toEqual({ relaxed: 3, fast: 8, turbo: 20 });
    expect(table.vary).toEqual(DEFAULT_PRICES.vary);
    expect(table.video).toEqual(DEFAULT_PRICES.video);
  });

  it.each([
    ['a misspelt section', { gird: { fast: 8 } }],
    ['a misspelt speed', { grid: { fats: 8 } }],
    ['a negative price', { upscale: -1 }],
    ['a price as text', { extend: '15' }],
    ['an infinite price', { video: { sd: Number.POSITIVE_INFINITY } }],
    ['an unknown speed', { unknownSpeed: 'warp' }],
    ['not an object', [1, 2]],
  ])('rejects %s', (_name, raw) => {
    expect(PriceTableSchema.safeParse(raw).success).toBe(false);
  });
});

describe('parsePriceTable (from an environment variable)', () => {
  it('missing or blank → the defaults', () => {
    expect(parsePriceTable(undefined)).toEqual({ ok: true, value: DEFAULT_PRICES });
    expect(parsePriceTable('  ')).toEqual({ ok: true, value: DEFAULT_PRICES });
  });

  it('reads overrides', () => {
    const r = parsePriceTable('{"grid":{"fast":9},"video":{"sd":12}}');
    expect(r.ok && r.value.grid.fast).toBe(9);
    expect(r.ok && r.value.video).toEqual({ sd: 12, hd: 45 });
  });

  it('says what is wrong with bad JSON', () => {
    const r = parsePriceTable('{grid:');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('not valid JSON');
  });

  it('says which field is wrong', () => {
    const r = parsePriceTable('{"grid":{"fast":-2}}');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('grid.fast');
  });
});
