/**
 * Scale: the bot following 100, 1,000 and 5,000 jobs at once. Each size runs
 * in a fresh child process (./scaleChild.ts) so RSS is not polluted by the
 * previous size, against a fresh services process (KIE server + fake
 * Discord) whose tasks never finish. A run with 0 jobs gives the baseline:
 * Node, the modules, discord.js, the SQLite driver — and tsx's TypeScript
 * loader, which a production build (`npm run build`, plain node) has not.
 */
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Speed } from '../../src/providers/kie/schemas.js';
import { rawSlashCommand } from '../../test/support/discordClient.js';
import { createRng } from '../../src/providers/kie/simulator/random.js';
import { benchFile, startServices, tsxImport } from '../services/client.js';
import type { ScaleChildInput, ScaleChildResult, ScaleJobSpec } from './scaleChild.js';

export interface ScaleScenarioOptions {
  sizes: readonly number[];
  windowMs: number;
  scheduleTimeScale: number;
  /** 'sqlite' (production's default) or 'memory'. */
  store: 'sqlite' | 'memory';
  channels: number;
  seed: number;
  log?: (line: string) => void;
}

const SPEEDS: readonly Speed[] = ['turbo', 'fast', 'fast', 'fast', 'relaxed'];

/** The jobs of one size: ids and tokens for the fake Discord, a speed mix like the lag load (1:3:1). */
function jobsFor(n: number, channels: number, seed: number): { specs: ScaleJobSpec[]; raws: ReturnType<typeof rawSlashCommand>[] } {
  const rng = createRng(seed + n);
  const raws = Array.from({ length: n }, (_, i) =>
    rawSlashCommand({
      name: 'imagine',
      channelId: `132000000000${String(i % channels).padStart(6, '0')}`,
      user: { id: `142000000000${String(i % 200).padStart(6, '0')}` },
      options: [{ name: 'prompt', type: 3, value: `scale ${i}` }],
    }),
  );
  const specs = raws.map((raw) => ({
    id: raw.id,
    token: raw.token,
    channelId: raw.channel_id ?? '0',
    userId: raw.member?.user.id ?? '0',
    speed: SPEEDS[Math.floor(rng() * SPEEDS.length)]!,
  }));
  return { specs, raws };
}

/**
 * Where the SQLite file goes: RAM-backed /dev/shm when there is one. Building
 * up 5,000 jobs means ~20,000 committed writes; on a disk that is minutes of
 * fsync, which is not what this scenario measures (memory, event loop, CPU).
 */
export function scratchDir(): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'teamjourney-bench-'));
}

function runChild(input: ScaleChildInput): Promise<ScaleChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(benchFile('scenarios/scaleChild.ts'), [], {
      // BENCH_CHILD_NODE_ARGS (e.g. "--cpu-prof") to profile a size.
      execArgv: ['--expose-gc', '--import', tsxImport(), ...(process.env['BENCH_CHILD_NODE_ARGS']?.split(' ').filter(Boolean) ?? [])],
      env: { ...process.env, TEAMJOURNEY_BENCH_SCALE_CHILD: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.once('message', (message: { ok: true; result: ScaleChildResult } | { ok: false; error: string }) => {
      settled = true;
      if (message.ok) resolve(message.result);
      else reject(new Error(`scale child failed: ${message.error}`));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`scale child exited (${code}) without a result`));
    });
    child.send(input);
  });
}

export async function runScaleScenario(opts: ScaleScenarioOptions): Promise<ScaleChildResult[]> {
  const log = opts.log ?? (() => {});
  const results: ScaleChildResult[] = [];
  for (const n of opts.sizes) {
    const dir = scratchDir();
    const services = await startServices({ seed: opts.seed, createRateLimit: null, durations: {}, fallbackDurationMs: 24 * 3600_000 });
    try {
      const { specs, raws } = jobsFor(n, opts.channels, opts.seed);
      for (let i = 0; i < raws.length; i += 500) await services.register(raws.slice(i, i + 500));
      log(`scale: ${n} jobs (${opts.store} store, ${opts.windowMs / 1000} s watched)`);
      const result = await runChild({
        endpoints: { kieUrl: services.kieUrl, discordApiUrl: services.discordApiUrl, applicationId: services.applicationId, botUser: services.botUser },
        jobs: specs,
        storeUrl: opts.store === 'sqlite' ? `sqlite://${join(dir, 'bench.sqlite')}` : 'memory://',
        scheduleTimeScale: opts.scheduleTimeScale,
        windowMs: opts.windowMs,
        submitConcurrency: 32,
      });
      log(
        `scale: ${n} jobs → RSS ${result.tracking.rssMB.toFixed(0)} MB tracking (peak ${result.peak.rssMB.toFixed(0)} MB), event loop p99 ${result.eventLoopMs.p99.toFixed(1)} ms, submitted in ${result.submitWallS.toFixed(1)} s`,
      );
      results.push(result);
    } finally {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}
