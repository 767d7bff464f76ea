/** The history scenario's report plumbing: the JSON shape and the RESULTS.md section that replaces only itself. */
import { describe, expect, it } from 'vitest';
import { historyJson, historySection, upsertHistorySection, type HistoryRun } from '../../bench/scenarios/history.js';
import { historyRow } from '../../bench/scenarios/historyFill.js';

const run = (backend: 'sqlite' | 'postgres', admit: number): HistoryRun => ({
  backend,
  fillS: 100,
  admitP50: 2,
  usageP50: 50,
  child: { startupMs: 400, processReadyMs: 1500, rssMB: 150, heapUsedMB: 30, admitMs: [], usageMs: [], verdicts: {}, reportJobs: 82_000, admitRoundTrips: backend === 'postgres' ? 7 : 0 },
  figures: { lines: 1_000_000, startup_ms: 400, rss_mb: 150, admit_p99_ms: admit, usage_p99_ms: 120 },
});

describe('history bench report', () => {
  it('writes one object per backend with the five keys', () => {
    const json = historyJson([run('sqlite', 5), run('postgres', 25)]);
    expect(Object.keys(json)).toEqual(['sqlite', 'postgres']);
    expect(Object.keys(json.sqlite!).sort()).toEqual(['admit_p99_ms', 'lines', 'rss_mb', 'startup_ms', 'usage_p99_ms']);
  });

  it('says by how much a target is missed', () => {
    const md = historySection([run('sqlite', 5), run('postgres', 25)], new Date(0));
    expect(md).toContain('✅ 5.0 ms');
    expect(md).toContain('❌ 25.0 ms (missed by 5.0 ms, +25 %)');
    expect(md).toContain('| database round trips per admission | – | in-process calls | 7.0 |');
  });

  it('appends its section once and replaces only it on a rerun', () => {
    const base = '# Benchmark results\n\n## Targets\nkept\n';
    const once = upsertHistorySection(base, historySection([run('sqlite', 5)], new Date(0)));
    const twice = upsertHistorySection(once, historySection([run('sqlite', 7)], new Date(0)));
    expect(twice.startsWith(base.trimEnd())).toBe(true);
    expect(twice.match(/history:start/g)).toHaveLength(1);
    expect(twice).toContain('7.0 ms');
    expect(twice).not.toContain('✅ 5.0 ms');
  });

  it('fills the same history every time, oldest first', () => {
    const shape = { jobs: 1000, channels: 50, users: 300, months: 12, now: Date.UTC(2026, 0, 1), seed: 1 };
    const r = () => 0.5;
    const a = historyRow(shape, 10, r);
    expect(historyRow(shape, 10, r)).toEqual(a);
    expect(historyRow(shape, 11, r).job.created_at as number).toBeGreaterThan(a.job.created_at as number);
    expect(JSON.parse(a.job.data as string)).toMatchObject({ id: a.job.id, state: 'succeeded', delivered: true });
  });
});
