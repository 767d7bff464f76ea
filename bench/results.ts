/**
 * Everything one `npm run bench` measured, as plain data: what run.ts
 * writes into RESULTS.md (through report.ts) and what the smoke test checks.
 */
import { cpus, release, totalmem, type } from 'node:os';
import type { Speed } from '../src/providers/kie/schemas.js';
import type { PollerMetrics } from './metrics.js';
import type { ScaleChildResult } from './scenarios/scaleChild.js';
import type { Summary } from './stats.js';
import type { WorkloadSpec } from './workload.js';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    os: `${type()} ${release()}`,
    node: process.version,
  };
}

export interface AckResult {
  label: string;
  /** Whether the ack target is judged on this variant. */
  judged: boolean;
  mode: 'app' | 'floor';
  channels: number;
  store: 'sqlite' | 'memory' | 'none';
  commands: number;
  bursts: number;
  /** received → first response sent (ms). */
  sent: Summary;
  /** received → stored by the fake Discord (ms). */
  stored: Summary;
  unacknowledged: number;
  ackTypes: Record<string, number>;
  /** Longest single event-loop stall of the bot during a burst (ms). */
  stallMaxMs: number;
  via: string;
}

export interface WorkloadSummary {
  spec: WorkloadSpec;
  jobs: number;
  bySpeed: Partial<Record<Speed, number>>;
  /** Real-equivalent task time of the load. */
  taskMinutes: number;
}

export interface BenchResults {
  /** ISO timestamp of the run's start. */
  date: string;
  machine: MachineInfo;
  /** BENCH_QUICK=1 (fewer jobs, shorter windows). */
  quick: boolean;
  durationS: number;
  /** Time scale of the lag runs (task durations and schedules × this). */
  timeScale: number;
  workload: WorkloadSummary;
  pollers: PollerMetrics[];
  ack: AckResult[];
  scale: {
    results: ScaleChildResult[];
    store: 'sqlite' | 'memory';
    windowS: number;
    scheduleTimeScale: number;
    channels: number;
  };
}
