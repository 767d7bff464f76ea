/**
 * KIE_API_KEYS (several KIE accounts) as an alternative to KIE_API_KEY: the
 * parsing table, exactly-one-of-the-two, and errors that never echo a key.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, kieConfigured, kieKeysOf, parseConfig, parseKieKeys } from '../src/config.js';

const TOKEN = 'MTAxMjM0NTY3ODkwMTIzNDU2Nw.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB';
const K1 = 'kie-secret-one-1234567890';
const K2 = 'kie-secret-two-1234567890';

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('KIE_API_KEYS', () => {
  it.each([
    [`${K1},${K2}`, [{ name: 'key1', key: K1 }, { name: 'key2', key: K2 }]],
    [` ${K1} , ${K2} `, [{ name: 'key1', key: K1 }, { name: 'key2', key: K2 }]],
    [`team-a=${K1},team_b=${K2}`, [{ name: 'team-a', key: K1 }, { name: 'team_b', key: K2 }]],
    [`team-a=${K1},${K2}`, [{ name: 'team-a', key: K1 }, { name: 'key2', key: K2 }]],
    [K1, [{ name: 'key1', key: K1 }]],
    // Not a name before the '=' (a space, too long): the whole entry is a key.
    [`not a name=${K1}`.replace(/ /g, '.'), [{ name: 'key1', key: `not.a.name=${K1}` }]],
  ])('parses %s', (value, keys) => {
    expect(parseKieKeys(value)).toEqual(keys);
  });

  it.each([
    ['', 'is empty'],
    [' , ', 'is empty'],
    [`${K1},,${K2}`, 'has an empty entry (number 2)'],
    [`a=${K1},a=${K2}`, 'names two keys a'],
    [`key2=${K1},${K2}`, 'names two keys key2'],
    [`${K1},b=${K1}`, 'lists the same key twice'],
    ['a=', 'has a name without a key (entry 1)'],
  ])('refuses %j: %s', (value, problem) => {
    expect(parseKieKeys(value)).toBe(problem);
  });

  it('configures KIE with several named keys instead of KIE_API_KEY', () => {
    const c = parseConfig({ DISCORD_TOKEN: TOKEN, KIE_API_KEYS: `a=${K1},b=${K2}` });
    expect(kieConfigured(c)).toBe(true);
    expect(kieKeysOf(c)).toEqual([{ name: 'a', key: K1 }, { name: 'b', key: K2 }]);
    expect(kieKeysOf(parseConfig({ DISCORD_TOKEN: TOKEN, KIE_API_KEY: K1 }))).toEqual([{ name: 'default', key: K1 }]);
    // APIXO as the default: KIE_API_KEYS alone configures KIE as the second provider.
    expect(kieConfigured(parseConfig({ DISCORD_TOKEN: TOKEN, IMAGE_PROVIDER: 'apixo', APIXO_API_KEY: 'x', KIE_API_KEYS: K1 }))).toBe(true);
  });

  it('takes exactly one of KIE_API_KEY and KIE_API_KEYS, in one line each that never shows a key', () => {
    const both = errorOf({ DISCORD_TOKEN: TOKEN, KIE_API_KEY: K1, KIE_API_KEYS: K2 });
    expect(both.message).toBe(
      'Configuration error: KIE_API_KEYS cannot be set together with KIE_API_KEY (use one of the two). ' +
        'Use comma-separated keys, or name=key pairs such as team-a=KEY1,team-b=KEY2 (names: letters, digits, - and _, up to 32).',
    );
    const neither = errorOf({ DISCORD_TOKEN: TOKEN });
    expect(neither.problems).toEqual([{ variable: 'KIE_API_KEY', problem: 'is missing (or set KIE_API_KEYS for several KIE accounts)' }]);
    const bad = errorOf({ DISCORD_TOKEN: TOKEN, KIE_API_KEYS: `a=${K1},a=${K2}` });
    expect(bad.problems).toEqual([{ variable: 'KIE_API_KEYS', problem: 'names two keys a' }]);
    for (const e of [both, bad]) {
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.message).not.toContain(K1);
      expect(e.message).not.toContain(K2);
    }
  });
});
