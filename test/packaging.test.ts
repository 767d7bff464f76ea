/**
 * There is no Docker engine here, so the image is checked by reading it: the
 * Dockerfile, .dockerignore, .env.example, package.json and the README must
 * agree on what the documented paths need —
 * `docker run --env-file .env -v …:/data` with .env copied from the example,
 * and `npm ci && npm start`. And every configuration example in
 * .env.example and the README is parsed by the real config.
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_PORT, parseConfig } from '../src/config.js';
import { parsePriceTable } from '../src/domain/pricing.js';

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const dockerfile = read('Dockerfile');
const dockerignore = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const envExample = read('.env.example');
const readme = read('README.md');
const pkg = JSON.parse(read('package.json')) as { main: string; scripts: Record<string, string> };

/** The runtime stage: everything after the last FROM. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
/** ENV lines of the runtime stage as a map (the `ENV A=1 \ B=2` form). */
function runtimeEnv(): Record<string, string> {
  const joined = runtime.replace(/\\\n/g, ' ');
  const env: Record<string, string> = {};
  for (const line of joined.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const m of line.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1]!] = m[2]!;
  }
  return env;
}

const TOKEN = 'MTAxMjM0NTY3ODkwMTIzNDU2Nw.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB';
/** .env as a newcomer writes it: the example with the two required values filled in. */
const filledExample = (): Record<string, string> => ({ ...parseEnv(envExample), DISCORD_TOKEN: TOKEN, KIE_API_KEY: 'kie-key-1234567890' }) as Record<string, string>;

describe('Docker, as the README says it', () => {
  it('the example .env does not override the image’s database on the /data volume', () => {
    const image = runtimeEnv();
    expect(image.DATABASE_URL).toMatch(/^sqlite:\/\/\/data\//);
    expect(runtime).toMatch(/VOLUME \["\/data"\]/);
    // docker run --env-file would override the image's ENV with any variable the file sets.
    expect(Object.keys(parseEnv(envExample))).not.toContain('DATABASE_URL');
    expect(envExample).toMatch(/^# DATABASE_URL=/m);
    const config = parseConfig({ ...image, ...filledExample() });
    expect(config.DATABASE_URL).toBe(image.DATABASE_URL);
  });

  it('exposes the HTTP port the example and the default use, and health-checks /healthz without curl', () => {
    const image = runtimeEnv();
    const exposed = Number(/^EXPOSE (\d+)$/m.exec(runtime)?.[1]);
    expect(exposed).toBe(DEFAULT_HTTP_PORT);
    expect(Number(image.HTTP_PORT)).toBe(exposed);
    expect(Number(parseEnv(envExample).HTTP_PORT)).toBe(exposed);
    expect(image.HTTP_HOST).toBe('0.0.0.0');
    const check = runtime.slice(runtime.indexOf('HEALTHCHECK')).split('\n').slice(0, 2).join('\n');
    expect(check).toContain('/healthz');
    expect(check).toContain('"node", "-e"');
    expect(check).not.toMatch(/curl|wget/);
    // the health check's JavaScript is valid
    const js = /"node", "-e", "(.*)"\]/.exec(check)?.[1];
    expect(() => new Function(js!)).not.toThrow();
  });

  it('runs the built entry point without npm or dev dependencies, as a non-root user', () => {
    expect(runtime).toMatch(new RegExp(`^CMD \\["node", "--enable-source-maps", "${pkg.main}"\\]$`, 'm'));
    expect(dockerfile).toMatch(/npm run build && npm prune --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/\bnpm (start|run|ci)\b/);
  });

  it('the build context leaves out secrets, data, dependencies and build output, but keeps what the build copies', () => {
    for (const entry of ['node_modules', '.env', 'data', 'dist', '.git', 'bench']) expect(dockerignore).toContain(entry);
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'commands']));
    for (const path of copied) expect(dockerignore).not.toContain(path);
  });

  it('.env.example works with docker’s --env-file, which keeps quotes and comments literally', () => {
    for (const line of envExample.split('\n').filter((l) => /^[A-Z_]+=/.test(l))) {
      expect(line, line).not.toMatch(/=["']|\s#/);
    }
  });

  it('the README documents the same docker run and npm paths', () => {
    expect(readme).toMatch(/docker run --env-file \.env [^\n]*-v [^\n]*:\/data/);
    expect(readme).toContain('npm ci --omit=dev');
    expect(readme).toContain('npm ci && npm start');
    expect(pkg.scripts.start).toMatch(/npm run build && node .*dist\/src\/main\.js/);
    expect(pkg.scripts['start:built']).toBe(`node --enable-source-maps ${pkg.main}`);
    expect(pkg.scripts.prestart).toBeUndefined();
  });
});

describe('configuration examples', () => {
  it('.env.example, filled in, is a valid configuration', () => {
    expect(() => parseConfig(filledExample())).not.toThrow();
  });

  it('every variable in .env.example is in the README’s configuration table and vice versa', () => {
    const inExample = new Set([...envExample.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    const inTable = new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
    expect([...inExample].filter((v) => !inTable.has(v))).toEqual([]);
    // CALLBACK_PORT is documented only as HTTP_PORT's deprecated alias.
    expect([...inTable].filter((v) => !inExample.has(v) && v !== 'CALLBACK_PORT')).toEqual([]);
  });

  it.each([
    ...[...envExample.matchAll(/^# (\{.*\})$/gm)].map((m) => ['.env.example', m[1]!]),
    ...[...readme.matchAll(/PRICE_TABLE[^\n]*?`(\{[^`]*\})`/g)].map((m) => ['README', m[1]!]),
  ])('the PRICE_TABLE example in %s parses: %s', (_where, json) => {
    const parsed = parsePriceTable(json);
    expect(parsed.ok ? 'ok' : parsed.error).toBe('ok');
  });

  it('finds the examples it checks', () => {
    expect([...envExample.matchAll(/^# (\{.*\})$/gm)].length).toBeGreaterThan(0);
    expect([...readme.matchAll(/PRICE_TABLE[^\n]*?`(\{[^`]*\})`/g)].length).toBeGreaterThan(0);
  });
});
