import { describe, expect, it } from 'vitest';
import { ConfigError, isSimulator, parseConfig } from '../src/config.js';

const TOKEN = 'MTAxMjM0NTY3ODkwMTIzNDU2Nw.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB';
const KEY = 'kie-secret-key-1234567890';
const base = { DISCORD_TOKEN: TOKEN, KIE_API_KEY: KEY };

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig(base);
    expect(c.KIE_BASE_URL).toBe('https://api.kie.ai');
    expect(c.DATABASE_URL).toBe('sqlite://data/teamjourney.sqlite');
    expect(c.LOG_LEVEL).toBe('info');
    expect(c.KIE_CREATES_PER_10S).toBe(20);
    expect(c.DISCORD_GUILD_ID).toBeUndefined();
    expect(isSimulator(c)).toBe(false);
  });

  it.each([
    [{ KIE_API_KEY: KEY }, 'DISCORD_TOKEN', 'is missing'],
    [{ DISCORD_TOKEN: '', KIE_API_KEY: KEY }, 'DISCORD_TOKEN', 'is missing'],
    [{ DISCORD_TOKEN: 'short', KIE_API_KEY: KEY }, 'DISCORD_TOKEN', 'does not look like'],
    [{ DISCORD_TOKEN: TOKEN }, 'KIE_API_KEY', 'is missing'],
    [{ ...base, KIE_BASE_URL: 'api.kie.ai' }, 'KIE_BASE_URL', 'must be an http(s) URL or "simulator"'],
    [{ ...base, KIE_BASE_URL: 'ftp://api.kie.ai' }, 'KIE_BASE_URL', ''],
    [{ ...base, DISCORD_GUILD_ID: 'my-server' }, 'DISCORD_GUILD_ID', 'numeric'],
    [{ ...base, DISCORD_API_URL: 'nope' }, 'DISCORD_API_URL', 'URL'],
    [{ ...base, DATABASE_URL: 'mysql://u:p@h/db' }, 'DATABASE_URL', 'sqlite://'],
    [{ ...base, LOG_LEVEL: 'loud' }, 'LOG_LEVEL', ''],
    [{ ...base, KIE_CREATES_PER_10S: '25' }, 'KIE_CREATES_PER_10S', 'at most 20'],
    [{ ...base, PRICE_TABLE: '{nope' }, 'PRICE_TABLE', 'JSON'],
  ])('names the bad variable (%#)', (env, variable, fragment) => {
    const e = errorOf(env);
    expect(e.variable).toBe(variable);
    expect(e.message.startsWith(`Configuration error: ${variable} `)).toBe(true);
    expect(e.message).toContain(fragment);
    expect(e.message).not.toContain('\n');
  });

  it('never echoes a secret value', () => {
    for (const env of [{ DISCORD_TOKEN: 'short secret value', KIE_API_KEY: KEY }, { DISCORD_TOKEN: TOKEN, KIE_API_KEY: '' }]) {
      const e = errorOf(env);
      expect(e.message).not.toContain('short secret value');
      expect(e.message).not.toContain(TOKEN);
      expect(e.message).not.toContain(KEY);
    }
  });

  it('needs no API key in simulator mode', () => {
    const c = parseConfig({ DISCORD_TOKEN: TOKEN, KIE_BASE_URL: 'simulator' });
    expect(isSimulator(c)).toBe(true);
  });

  it('treats blank lines in .env as unset', () => {
    const c = parseConfig({ ...base, DISCORD_GUILD_ID: '', LOG_LEVEL: '', DATABASE_URL: '' });
    expect(c.DISCORD_GUILD_ID).toBeUndefined();
    expect(c.LOG_LEVEL).toBe('info');
  });
});
