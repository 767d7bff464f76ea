/**
 * The KIE key pool (src/providers/kie/keys.ts): which key a job goes to, and
 * rotation out on 401/402 and back on a balance read, with a fake KIE API
 * per key and the in-memory book (the SQL book is tested in
 * test/store/sql/kieKeys.test.ts, the whole path in test/e2e/kieKeys.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { AccountChange } from '../../../src/domain/provider.js';
import type { KieApi } from '../../../src/providers/kie/api.js';
import { KieInsufficientCreditsError, KieServerError, KieUnauthorizedError } from '../../../src/providers/kie/errors.js';
import { KieKeyPool, leastBusyKey, MemoryKeyBook, type KieKeyState } from '../../../src/providers/kie/keys.js';

const ctx = { endpoint: 'credits' as const, httpStatus: 200 };
const state = (s: Partial<KieKeyState>): KieKeyState => ({ credits: null, checkedAt: null, outSince: null, outReason: null, outCredits: null, ...s });

/** A KIE API whose balance (or failure) a test sets. */
function fakeApi(): KieApi & { balance: number | Error } {
  const api = {
    balance: 100 as number | Error,
    credits: async () => {
      if (api.balance instanceof Error) throw api.balance;
      return api.balance;
    },
    generate: async () => ({ taskId: 't' }),
    upscale: async () => ({ taskId: 't' }),
    vary: async () => ({ taskId: 't' }),
    extendVideo: async () => ({ taskId: 't' }),
    recordInfo: async () => {
      throw new Error('unused');
    },
  };
  return api;
}

describe('leastBusyKey', () => {
  const names = ['a', 'b', 'c'];
  it.each([
    ['no jobs, nothing known: the first', {}, {}, 'a'],
    ['fewest open jobs', {}, { a: 2, b: 1, c: 1 }, 'b'],
    ['a tie goes to the larger known balance', { b: state({ credits: 50 }), c: state({ credits: 900 }) }, { a: 1, b: 0, c: 0 }, 'c'],
    ['a key with 0 credits is skipped, however idle', { a: state({ credits: 0 }) }, { b: 5, c: 6 }, 'b'],
    ['a key out of rotation is skipped', { a: state({ outSince: 1, outReason: '402' }), b: state({ outSince: 1 }) }, { c: 9 }, 'c'],
    ['none usable: null', { a: state({ credits: 0 }), b: state({ outSince: 1 }), c: state({ credits: -1 }) }, {}, null],
  ])('%s', (_what, states, busy, expected) => {
    expect(leastBusyKey(names, new Map(Object.entries(states)), new Map(Object.entries(busy)))).toBe(expected);
  });
});

describe('KieKeyPool', () => {
  const pool = () => {
    const apis = { a: fakeApi(), b: fakeApi() };
    const p = new KieKeyPool([{ name: 'a', api: apis.a }, { name: 'b', api: apis.b }], new MemoryKeyBook(), () => 1_000);
    const changes: AccountChange[] = [];
    p.onChange((c) => changes.push(c));
    return { p, apis, changes };
  };

  it('a 402 takes the key out once (its balance kept), a top-up puts it back once', async () => {
    const { p, apis, changes } = pool();
    apis.a.balance = 3;
    await p.observe('a', new KieInsufficientCreditsError('no credits', ctx));
    await p.observe('a', new KieInsufficientCreditsError('no credits', ctx));
    expect(changes).toEqual([{ account: 'a', change: 'out', reason: 'the account has no credits left (402)' }]);
    expect(await p.choose()).toBe('b');
    await expect(p.choose('a')).rejects.toMatchObject({ category: 'unavailable', userMessage: expect.stringContaining('"a" this needs is out of rotation') });
    // The same 3 credits: still out. A top-up: back.
    expect((await p.reports()).map((r) => [r.name, r.credits, r.inRotation])).toEqual([['a', 3, false], ['b', 100, true]]);
    apis.a.balance = 400;
    expect((await p.reports()).map((r) => r.inRotation)).toEqual([true, true]);
    expect(changes.map((c) => c.change)).toEqual(['out', 'back']);
  });

  it('a 401 on a balance read takes the key out; other failures never do', async () => {
    const { p, apis, changes } = pool();
    apis.b.balance = new KieServerError('boom', ctx);
    await p.reports();
    expect(changes).toEqual([]);
    apis.b.balance = new KieUnauthorizedError('bad key', ctx);
    const reports = await p.reports();
    expect(reports[1]).toMatchObject({ name: 'b', credits: null, inRotation: false, outReason: 'KIE rejected the key (401)' });
    expect(changes).toEqual([{ account: 'b', change: 'out', reason: 'KIE rejected the key (401)' }]);
  });

  it('with every key out, a new job has none to go to; an unknown pinned name is refused', async () => {
    const { p } = pool();
    await p.observe('a', new KieUnauthorizedError('x', ctx));
    await p.observe('b', new KieUnauthorizedError('x', ctx));
    await expect(p.choose()).rejects.toMatchObject({ category: 'unavailable', providerCode: 'no_usable_key' });
    await expect(p.choose('zzz')).rejects.toMatchObject({ userMessage: expect.stringContaining('"zzz" is not configured') });
  });

  it('a single key is never taken out of rotation (there is nowhere else to go)', async () => {
    const api = fakeApi();
    const p = new KieKeyPool([{ name: 'default', api }]);
    const changes: AccountChange[] = [];
    p.onChange((c) => changes.push(c));
    await p.observe(undefined, new KieInsufficientCreditsError('x', ctx));
    expect(changes).toEqual([]);
    expect(await p.choose()).toBe('default');
    expect(p.api()).toBe(api);
  });
});
