/**
 * The real bot as an operator starts it: src/main.ts in a child Node process
 * (TypeScript through tsx), in an empty temporary directory (no .env is
 * read), with only the environment the test gives it. Used by the start-up
 * test (one process) and the fleet test and bench (several processes on one
 * PostgreSQL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A bot token of the real shape (config refuses anything shorter than 50 characters). */
export const BOT_TOKEN = 'MTEwMDAwMDAwMDAwMDAwMDAwMg.GSimUl.abcdefghijklmnopqrstuvwxyz0123456789AB';
export const BOT_APPLICATION_ID = '1100000000000000001';
export const BOT_USER = { id: '1100000000000000002', username: 'Teamjourney', discriminator: '0', global_name: null, avatar: null, bot: true };

/** One JSON log line of the bot (pino). */
export type LogLine = Record<string, unknown> & { msg: string; level?: number; time?: number };

export interface BotProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** stdout's JSON log lines so far. */
  logs(): LogLine[];
  stderr(): string;
  /** stdout and stderr, for a failure message. */
  output(): string;
  /** Send a signal if the process still runs. */
  kill(signal: NodeJS.Signals): void;
  readonly running: boolean;
}

/** Starts and tracks bot processes; `cleanup()` kills (SIGKILL) the ones still running and removes their directories. */
export class BotProcesses {
  private readonly started: BotProcess[] = [];
  private readonly dirs: string[] = [];

  /**
   * Starts src/main.ts with PATH, the token, KIE in simulator mode, an
   * in-memory database and an ephemeral HTTP port on loopback, overridden by `env`.
   */
  start(env: Record<string, string>): BotProcess {
    const cwd = mkdtempSync(join(tmpdir(), 'tj-bot-'));
    this.dirs.push(cwd);
    const child = spawn(process.execPath, ['--import', TSX, MAIN], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        DISCORD_TOKEN: BOT_TOKEN,
        KIE_BASE_URL: 'simulator',
        DATABASE_URL: 'memory://',
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const bot: BotProcess = {
      child,
      pid: child.pid ?? -1,
      exited,
      logs: () =>
        stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as LogLine),
      stderr: () => stderr,
      output: () => stdout + stderr,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
      get running() {
        return child.exitCode === null && child.signalCode === null;
      },
    };
    this.started.push(bot);
    return bot;
  }

  /** SIGKILL every process still running (a failed test may leave one), then wait for them to exit. */
  async killAll(): Promise<void> {
    const bots = this.started.splice(0);
    for (const bot of bots) bot.kill('SIGKILL');
    await Promise.all(bots.map((b) => b.exited));
  }

  async cleanup(): Promise<void> {
    await this.killAll();
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls `get` every 50 ms until it returns a value; fails after `ms` with `output()` (the bot's logs). */
export async function until<T>(what: string, get: () => T | undefined, output: () => string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms. Output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The URL the bot's HTTP port listens on (from its log line). */
export async function httpUrlOf(bot: BotProcess, ms = 20_000): Promise<string> {
  const line = await until('HTTP port', () => bot.logs().find((l) => l.msg === 'HTTP port listening'), bot.output, ms);
  return String(line.url);
}
