/**
 * The process-level contract of `npm start` with bad configuration: exit
 * status 1 and one clear line naming the variable, no stack trace, never a
 * secret's value. Runs the real entry point in a child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TOKEN = 'MTAxMjM0NTY3ODkwMTIzNDU2Nw.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB';

function start(env: Record<string, string>) {
  // An empty working directory, so no developer's .env is read.
  const cwd = mkdtempSync(join(tmpdir(), 'tj-main-'));
  try {
    return spawnSync(process.execPath, ['--import', TSX, MAIN], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe('npm start with bad configuration', () => {
  it.each([
    [{}, ['DISCORD_TOKEN', 'KIE_API_KEY']],
    [{ DISCORD_TOKEN: TOKEN }, ['KIE_API_KEY']],
    [{ DISCORD_TOKEN: TOKEN, KIE_API_KEY: 'sk-very-secret', KIE_BASE_URL: 'api.kie.ai' }, ['KIE_BASE_URL']],
    [{ DISCORD_TOKEN: TOKEN, KIE_API_KEY: 'sk-very-secret', DATABASE_URL: 'mysql://x' }, ['DATABASE_URL']],
    [{ DISCORD_TOKEN: 'oops', KIE_API_KEY: 'sk-very-secret', LOG_LEVEL: 'loud', PRICE_TABLE: '{"video":15}' }, ['DISCORD_TOKEN', 'LOG_LEVEL', 'PRICE_TABLE']],
  ])('exits 1 with one line per bad variable, all at once (%#)', (env, variables) => {
    const run = start(env as Record<string, string>);
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(variables.length);
    variables.forEach((variable, i) => expect(lines[i]).toMatch(new RegExp(`^Configuration error: ${variable} `)));
    expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/); // no stack trace
    expect(run.stderr + run.stdout).not.toContain(TOKEN);
    expect(run.stderr + run.stdout).not.toContain('sk-very-secret');
  });
});

describe('npm start with a database it cannot use', () => {
  it.each([
    ['a folder', (dir: string) => `sqlite://${dir}`, /points at a folder/],
    ['a file that is not a database', (dir: string) => (writeFileSync(join(dir, 'x.txt'), 'not a database '.repeat(200)), `sqlite://${join(dir, 'x.txt')}`), /not an SQLite database/],
    ['a folder that cannot be created', (dir: string) => (writeFileSync(join(dir, 'f'), ''), `sqlite://${join(dir, 'f', 'sub', 'db.sqlite')}`), /cannot create the folder/],
    ['an unreachable PostgreSQL', () => 'postgres://bot:pg-very-secret@127.0.0.1:1/tj', /could not connect to PostgreSQL/],
  ])('%s: exits 1 with one line naming DATABASE_URL, never the password', (_name, url, reason) => {
    const dir = mkdtempSync(join(tmpdir(), 'tj-main-db-'));
    try {
      const run = start({ DISCORD_TOKEN: TOKEN, KIE_API_KEY: 'sk-very-secret', DATABASE_URL: url(dir) });
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^Database error: DATABASE_URL \(/);
      expect(lines[0]).toMatch(reason);
      expect(run.stderr + run.stdout).not.toContain('pg-very-secret');
      expect(run.stderr + run.stdout).not.toContain('sk-very-secret');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
