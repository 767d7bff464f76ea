import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../src/domain/mutex.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('KeyedMutex', () => {
  it('runs work for one key one at a time, in call order', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const step = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([m.run('a', step('1')), m.run('a', step('2')), m.run('a', step('3'))]);
    expect(results).toEqual(['1', '2', '3']);
    expect(log).toEqual(['1 start', '1 end', '2 start', '2 end', '3 start', '3 end']);
  });

  it('lets different keys interleave', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const step = (name: string) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
    };
    await Promise.all([m.run('a', step('a')), m.run('b', step('b'))]);
    expect(log.slice(0, 2)).toEqual(['a start', 'b start']);
  });

  it('keeps going after a failure and forgets drained keys', async () => {
    const m = new KeyedMutex();
    const failing = m.run('a', async () => {
      throw new Error('boom');
    });
    const next = m.run('a', async () => 'ok');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
    expect(m.busyKeys).toBe(0);
  });
});
