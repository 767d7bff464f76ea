/**
 * `npm run commands:deploy` at the process level: it registers the commands,
 * and a rejected token or a wrong DISCORD_API_URL is the same one line as
 * `npm start` gives.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord } from './support/fakeDiscord.js';

const DEPLOY = fileURLToPath(new URL('../src/deploy.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TOKEN = 'MTEwMDAwMDAwMDAwMDAwMDAwMg.GSimUl.abcdefghijklmnopqrstuvwxyz0123456789AB';
const GUILD = '1200000000000000001';

let fake: FakeDiscord;
const dirs: string[] = [];
beforeAll(async () => {
  fake = await startFakeDiscord({ applicationId: '1100000000000000001', botUserId: '1100000000000000002', botToken: TOKEN });
});
afterAll(async () => {
  await fake?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function deploy(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'tj-deploy-'));
  dirs.push(cwd);
  const child = spawn(process.execPath, ['--import', TSX, DEPLOY], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run commands:deploy', () => {
  it('registers the commands in the guild', async () => {
    const run = await deploy({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: fake.apiUrl, DISCORD_GUILD_ID: GUILD });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toMatch(new RegExp(`^Registered \\d+ commands in guild ${GUILD}\\.$`));
    expect(run.code).toBe(0);
  }, 30_000);

  it('a rejected token gets the same hint as npm start, never the token', async () => {
    const run = await deploy({ DISCORD_TOKEN: `${TOKEN}x`, DISCORD_API_URL: fake.apiUrl });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      'Configuration error: DISCORD_TOKEN was rejected by Discord. Reset the token in the developer portal (your application → Bot → Reset Token) and update it.',
    );
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  }, 30_000);

  it('a wrong DISCORD_API_URL is one line naming it', async () => {
    const wrong = fake.apiUrl.replace(/\/api$/, '/nope');
    const run = await deploy({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: wrong });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(new RegExp(`^Could not register commands: could not reach Discord at ${wrong}: HTTP 404`));
  }, 30_000);
});
