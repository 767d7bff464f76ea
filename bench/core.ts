/**
 * The benchmark as a function: run every scenario for a configuration and
 * return the figures. run.ts (npm run bench) and the smoke test both call
 * this; only the configuration differs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollerMetrics, type PollerMetrics } from './metrics.js';
import { machineInfo, type AckResult, type BenchResults } from './results.js';
import { runAckScenario } from './scenarios/ack.js';
import { runLagScenario, type PollerKind } from './scenarios/lag.js';
import { runScaleScenario } from './scenarios/scale.js';
import { summarize } from './stats.js';
import { buildWorkload, DEFAULT_WORKLOAD, taskMinutes, type WorkloadSpec } from './workload.js';

export interface AckVariant {
  label: string;
  judged: boolean;
  mode: 'app' | 'floor';
  channels: number;
  store: 'sqlite' | 'memory';
}

export interface BenchConfig {
  quick: boolean;
  seed: number;
  /** Lag runs: task durations and every schedule and limit × this. */
  timeScale: number;
  workload: WorkloadSpec;
  pollers: readonly PollerKind[];
  ack: { commands: number; bursts: number; variants: readonly AckVariant[] };
  scale: { sizes: readonly number[]; windowMs: number; scheduleTimeScale: number; store: 'sqlite' | 'memory'; channels: number };
}

export const POLLERS: readonly PollerKind[] = [
  { kind: 'adaptive' },
  { kind: 'adaptive', callbacks: true },
  { kind: 'fixed', intervalMs: 3_000 },
  { kind: 'fixed', intervalMs: 30_000 },
];

const ACK_VARIANTS: readonly AckVariant[] = [
  { label: 'bot, SQLite, 10 channels', judged: true, mode: 'app', channels: 10, store: 'sqlite' },
  { label: 'bot, SQLite, 1 channel', judged: false, mode: 'app', channels: 1, store: 'sqlite' },
  { label: 'bot, in-memory store, 10 channels', judged: false, mode: 'app', channels: 10, store: 'memory' },
  { label: 'floor: deferReply() at once', judged: false, mode: 'floor', channels: 10, store: 'sqlite' },
];

/** `npm run bench`: about 4–5 minutes on 2 cores. */
export const FULL_CONFIG: BenchConfig = {
  quick: false,
  seed: 20250101,
  timeScale: 0.05,
  workload: DEFAULT_WORKLOAD,
  pollers: POLLERS,
  ack: { commands: 100, bursts: 3, variants: ACK_VARIANTS },
  scale: { sizes: [0, 100, 1_000, 5_000], windowMs: 15_000, scheduleTimeScale: 0.05, store: 'sqlite', channels: 50 },
};

/** BENCH_QUICK=1: the same scenarios, a third of the load and shorter windows (~2 minutes). */
export const QUICK_CONFIG: BenchConfig = {
  ...FULL_CONFIG,
  quick: true,
  workload: { ...DEFAULT_WORKLOAD, spanMs: 3 * 60_000, burst: 25 },
  ack: { commands: 100, bursts: 1, variants: ACK_VARIANTS.filter((v) => v.judged || v.mode === 'floor') },
  scale: { ...FULL_CONFIG.scale, windowMs: 5_000 },
};

const ackStoreUrl = (store: 'sqlite' | 'memory', dir: string): string =>
  store === 'memory' ? 'memory://' : `sqlite://${join(dir, 'bench.sqlite')}`;

async function runAck(config: BenchConfig, log: (line: string) => void): Promise<AckResult[]> {
  const out: AckResult[] = [];
  for (const variant of config.ack.variants) {
    // A real disk, as in production: SQLite's commits are part of the cost.
    const dir = mkdtempSync(join(tmpdir(), 'teamjourney-ack-'));
    try {
      const run = await runAckScenario({
        mode: variant.mode,
        commands: config.ack.commands,
        channels: variant.channels,
        bursts: config.ack.bursts,
        storeUrl: ackStoreUrl(variant.store, dir),
        seed: config.seed,
        log,
      });
      out.push({
        label: variant.label,
        judged: variant.judged,
        mode: variant.mode,
        channels: variant.channels,
        store: variant.mode === 'floor' ? 'none' : variant.store,
        commands: run.commands,
        bursts: run.bursts,
        sent: summarize(run.sentMs),
        stored: summarize(run.storedMs),
        unacknowledged: run.unacknowledged,
        ackTypes: run.ackTypes,
        stallMaxMs: run.stallMaxMs,
        via: run.via,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}

export async function runBench(config: BenchConfig, log: (line: string) => void = () => {}): Promise<BenchResults> {
  const started = Date.now();
  const jobs = buildWorkload(config.workload);
  const bySpeed: BenchResults['workload']['bySpeed'] = {};
  for (const j of jobs) bySpeed[j.speed] = (bySpeed[j.speed] ?? 0) + 1;
  log(`workload: ${jobs.length} jobs (${JSON.stringify(bySpeed)}), time scale ${config.timeScale}`);

  const pollers: PollerMetrics[] = [];
  for (const poller of config.pollers) {
    // The adaptive poller persists every step, as the bot does: SQLite on disk.
    const dir = mkdtempSync(join(tmpdir(), 'teamjourney-lag-'));
    try {
      const storeUrl = `sqlite://${join(dir, 'bench.sqlite')}`;
      const run = await runLagScenario({ poller, workload: jobs, timeScale: config.timeScale, seed: config.seed, storeUrl, log });
      pollers.push(pollerMetrics(run));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const ack = await runAck(config, log);
  const scale = await runScaleScenario({ ...config.scale, seed: config.seed, log });

  return {
    date: new Date(started).toISOString(),
    machine: machineInfo(),
    quick: config.quick,
    durationS: (Date.now() - started) / 1000,
    timeScale: config.timeScale,
    workload: { spec: config.workload, jobs: jobs.length, bySpeed, taskMinutes: taskMinutes(jobs) },
    pollers,
    ack,
    scale: {
      results: scale,
      store: config.scale.store,
      windowS: config.scale.windowMs / 1000,
      scheduleTimeScale: config.scale.scheduleTimeScale,
      channels: config.scale.channels,
    },
  };
}
