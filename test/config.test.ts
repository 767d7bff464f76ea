import { describe, expect, it } from 'vitest';
import { allowedGuildIds, apixoConfigured, ConfigError, kieConfigured, httpListen, isSimulator, parseConfig, parseDeployConfig, SIMULATOR_DATABASE_URL, shardOptions } from '../src/config.js';

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

  it('reports every bad variable at once, one line each, in the order of the table', () => {
    const e = errorOf({ DISCORD_TOKEN: 'short', LOG_LEVEL: 'loud', HTTP_PORT: 'eighty', PRICE_TABLE: '{"video":15}' });
    expect(e.problems.map((p) => p.variable)).toEqual(['DISCORD_TOKEN', 'LOG_LEVEL', 'KIE_API_KEY', 'HTTP_PORT', 'PRICE_TABLE']);
    const lines = e.message.split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^Configuration error: [A-Z_0-9]+ /);
    expect(e.variable).toBe('DISCORD_TOKEN');
  });

  it('trims a pasted token or key before judging it (and uses the trimmed value)', () => {
    const c = parseConfig({ DISCORD_TOKEN: `  ${TOKEN}\n`, KIE_API_KEY: `\t${KEY} `, DISCORD_GUILD_ID: ' 123456789012345678 ' });
    expect(c.DISCORD_TOKEN).toBe(TOKEN);
    expect(c.KIE_API_KEY).toBe(KEY);
    expect(c.DISCORD_GUILD_ID).toBe('123456789012345678');
    expect(parseDeployConfig({ DISCORD_TOKEN: ` ${TOKEN} ` }).DISCORD_TOKEN).toBe(TOKEN);
    expect(errorOf({ DISCORD_TOKEN: '   ', KIE_API_KEY: KEY }).problem).toBe('is missing');
  });

  it('says what shape a bad PRICE_TABLE should have', () => {
    const e = errorOf({ ...base, PRICE_TABLE: '{"video":15,"video_hd":45}' });
    expect(e.variable).toBe('PRICE_TABLE');
    expect(e.message).toContain('video');
    expect(e.message).toContain('"video":{"sd":15,"hd":45}');
    expect(e.message).not.toContain('\n');
    const unknown = errorOf({ ...base, PRICE_TABLE: '{"video_hd":45}' });
    expect(unknown.message).toContain('grid, vary, upscale, video, extend, unknownSpeed');
  });

  it('parses PRICE_TABLE into the full table', () => {
    const c = parseConfig({ ...base, PRICE_TABLE: '{"grid":{"turbo":20}}' });
    expect(c.PRICE_TABLE?.grid).toEqual({ relaxed: 3, fast: 8, turbo: 20 });
  });

  it('listens on HTTP_PORT (default 8080) at HTTP_HOST (default 0.0.0.0); CALLBACK_PORT is its old name', () => {
    expect(httpListen(parseConfig(base))).toEqual({ host: '0.0.0.0', port: 8080, deprecatedCallbackPort: false });
    expect(httpListen(parseConfig({ ...base, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1' }))).toEqual({ host: '127.0.0.1', port: 0, deprecatedCallbackPort: false });
    expect(httpListen(parseConfig({ ...base, CALLBACK_PORT: '8787' }))).toEqual({ host: '0.0.0.0', port: 8787, deprecatedCallbackPort: true });
    expect(httpListen(parseConfig({ ...base, CALLBACK_PORT: '8787', HTTP_PORT: '9000' })).port).toBe(9000);
    expect(errorOf({ ...base, HTTP_PORT: '70000' }).variable).toBe('HTTP_PORT');
    expect(errorOf({ ...base, HTTP_HOST: 'http://0.0.0.0:8080' }).variable).toBe('HTTP_HOST');
  });

  it('keeps simulator mode in its own database file unless DATABASE_URL is set', () => {
    expect(parseConfig({ DISCORD_TOKEN: TOKEN, KIE_BASE_URL: 'simulator' }).DATABASE_URL).toBe(SIMULATOR_DATABASE_URL);
    expect(SIMULATOR_DATABASE_URL).not.toBe(parseConfig(base).DATABASE_URL);
    expect(parseConfig({ DISCORD_TOKEN: TOKEN, KIE_BASE_URL: 'simulator', DATABASE_URL: 'memory://' }).DATABASE_URL).toBe('memory://');
  });
});

describe('ALLOWED_GUILD_IDS', () => {
  const G1 = '123456789012345678';
  const G2 = '223456789012345678';
  it('is a comma-separated list of ids, defaulting to DISCORD_GUILD_ID, else any server', () => {
    expect(allowedGuildIds(parseConfig({ ...base, ALLOWED_GUILD_IDS: `${G1}, ${G2}` }))).toEqual([G1, G2]);
    expect(allowedGuildIds(parseConfig({ ...base, DISCORD_GUILD_ID: G1 }))).toEqual([G1]);
    expect(allowedGuildIds(parseConfig({ ...base, DISCORD_GUILD_ID: G1, ALLOWED_GUILD_IDS: G2 }))).toEqual([G2]);
    expect(allowedGuildIds(parseConfig(base))).toBeNull();
  });
  it('names a bad id in one line', () => {
    expect(errorOf({ ...base, ALLOWED_GUILD_IDS: `${G1},my-server` }).message).toMatch(/^Configuration error: ALLOWED_GUILD_IDS must be numeric Discord ids/);
  });
});

describe('image providers', () => {
  it('KIE alone is the default, as before there were several', () => {
    const c = parseConfig(base);
    expect(c.IMAGE_PROVIDER).toBe('kie');
    expect([kieConfigured(c), apixoConfigured(c)]).toEqual([true, false]);
  });

  it('APIXO as the default needs no KIE key; both may be configured at once', () => {
    const apixoOnly = parseConfig({ DISCORD_TOKEN: TOKEN, IMAGE_PROVIDER: 'apixo', APIXO_API_KEY: 'ak' });
    expect([apixoOnly.IMAGE_PROVIDER, kieConfigured(apixoOnly), apixoConfigured(apixoOnly)]).toEqual(['apixo', false, true]);
    const both = parseConfig({ ...base, APIXO_API_KEY: 'ak' });
    expect([both.IMAGE_PROVIDER, kieConfigured(both), apixoConfigured(both)]).toEqual(['kie', true, true]);
    const sim = parseConfig({ DISCORD_TOKEN: TOKEN, IMAGE_PROVIDER: 'APIXO', APIXO_BASE_URL: 'simulator' });
    expect([sim.IMAGE_PROVIDER, sim.APIXO_BASE_URL, sim.DATABASE_URL]).toEqual(['apixo', 'simulator', SIMULATOR_DATABASE_URL]);
  });

  it('names each missing or bad provider variable', () => {
    expect(errorOf({ DISCORD_TOKEN: TOKEN, IMAGE_PROVIDER: 'apixo' }).message).toContain('APIXO_API_KEY');
    expect(errorOf({ ...base, APIXO_BASE_URL: 'https://apixo.example' }).message).toContain('APIXO_API_KEY');
    expect(errorOf({ ...base, IMAGE_PROVIDER: 'midjourney' }).message).toContain('IMAGE_PROVIDER');
    expect(errorOf({ ...base, APIXO_API_KEY: 'ak', APIXO_BASE_URL: 'ftp://x' }).message).toContain('APIXO_BASE_URL');
    expect(errorOf({ ...base, APIXO_PRICE_TABLE: '{"grid":{"turbo":-1}}' }).message).toContain('APIXO_PRICE_TABLE');
  });
});

describe('several processes: LEASE_TTL_SECONDS, SHARD_COUNT, SHARD_IDS', () => {
  it('defaults to a 20 s lease and one shard', () => {
    const c = parseConfig(base);
    expect(c.LEASE_TTL_SECONDS).toBe(20);
    expect(shardOptions(c)).toEqual({});
  });

  it('passes shards to the discord.js Client: auto, all of a count, or this process’s ids', () => {
    expect(shardOptions(parseConfig({ ...base, SHARD_COUNT: 'auto' }))).toEqual({ shards: 'auto' });
    expect(shardOptions(parseConfig({ ...base, SHARD_COUNT: '2' }))).toEqual({ shards: [0, 1], shardCount: 2 });
    expect(shardOptions(parseConfig({ ...base, SHARD_COUNT: '4', SHARD_IDS: '1, 3' }))).toEqual({ shards: [1, 3], shardCount: 4 });
  });

  it('refuses bad values with one line each', () => {
    expect(errorOf({ ...base, LEASE_TTL_SECONDS: '60' }).message).toMatch(/^Configuration error: LEASE_TTL_SECONDS/);
    expect(errorOf({ ...base, SHARD_COUNT: 'many' }).message).toMatch(/^Configuration error: SHARD_COUNT must be a number of shards/);
    expect(errorOf({ ...base, SHARD_COUNT: '2', SHARD_IDS: '0,2' }).message).toMatch(/^Configuration error: SHARD_IDS must be below SHARD_COUNT \(2\)/);
    expect(errorOf({ ...base, SHARD_IDS: '0' }).message).toMatch(/^Configuration error: SHARD_IDS needs a numeric SHARD_COUNT/);
  });
});
