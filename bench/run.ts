/**
 * `npm run bench`: every scenario, then bench/RESULTS.md and
 * bench/lag-vs-polls.svg. See RESULTS.md's last section for the method.
 *
 *   npm run bench -- learn   only the learned-timings runs (drifting loads,
 *                            poll order under pressure; ~2 min), written into
 *                            RESULTS.md's "Learned timings" section, keeping
 *                            the rest of the file
 *
 *   BENCH_QUICK=1         a shorter load and windows (~2 min instead of ~5)
 *   BENCH_TIME_SCALE=0.05 the lag runs' time scale
 *   BENCH_OUT=dir         write the files elsewhere (default: bench/out/, which git ignores)
 *
 * `npm run bench -- fleet` runs only the fleet scenario (1, 2 and 4 real
 * bot processes on PostgreSQL, then kill -9 of one of 2; see
 * bench/scenarios/fleet.ts) and replaces only its own section of RESULTS.md.
 *
 * `npm run bench -- history` runs only the history scenario (1,000,000 past
 * jobs on SQLite and PostgreSQL; see bench/scenarios/history.ts): it writes
 * history.json and replaces only its own section of RESULTS.md.
 *
 * A run writes to bench/out/ so that trying the bench leaves the tree clean;
 * `npm run bench:publish [-- part]` writes into bench/ (RESULTS.md, the chart,
 * history.json), to be committed deliberately with the change they measure.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from './core.js';
import { historyJson, historySection, runHistoryScenario, upsertHistorySection, type HistoryBackend } from './scenarios/history.js';

async function configFromEnv(env: NodeJS.ProcessEnv): Promise<BenchConfig> {
  const { FULL_CONFIG, QUICK_CONFIG } = await import('./core.js');
  const base = env['BENCH_QUICK'] === '1' ? QUICK_CONFIG : FULL_CONFIG;
  const scale = env['BENCH_TIME_SCALE'] === undefined ? base.timeScale : Number(env['BENCH_TIME_SCALE']);
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`BENCH_TIME_SCALE must be in (0, 1], got ${env['BENCH_TIME_SCALE']}`);
  return { ...base, timeScale: scale };
}

/** The learned-timings runs, written into RESULTS.md's own section. */
async function runLearn(out: string, log: (line: string) => void): Promise<void> {
  const { runLearnScenario, runPressureScenario } = await import('./scenarios/learn.js');
  const { renderLearnSection, writeLearnSection } = await import('./learnReport.js');
  const t0 = Date.now();
  const runs = await runLearnScenario(log);
  const pressure = await runPressureScenario(log);
  const section = renderLearnSection(runs, pressure, { date: new Date().toISOString().slice(0, 10), wallS: (Date.now() - t0) / 1000 });
  console.log(`wrote the learned-timings section of ${await writeLearnSection(out, section)}`);
}

/** The history scenario: bench/history.json and its RESULTS.md section (the rest of the file is kept). */
async function history(out: string, log: (line: string) => void): Promise<void> {
  const env = process.env;
  const runs = await runHistoryScenario({
    jobs: Number(env['BENCH_HISTORY_JOBS'] ?? 1_000_000),
    backends: (env['BENCH_HISTORY_BACKENDS'] ?? 'sqlite,postgres').split(',').filter(Boolean) as HistoryBackend[],
    pgUrl: env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    scratch: join(dirname(fileURLToPath(import.meta.url)), '..', '.bench-scratch'),
    log,
  });
  writeFileSync(join(out, 'history.json'), `${JSON.stringify(historyJson(runs), null, 2)}\n`);
  const results = join(out, 'RESULTS.md');
  const before = existsSync(results) ? readFileSync(results, 'utf8') : '# Benchmark results\n';
  writeFileSync(results, upsertHistorySection(before, historySection(runs, new Date())));
  log(`wrote ${join(out, 'history.json')} and the history section of ${results}`);
}

/** The fleet scenario: its RESULTS.md section (the rest of the file is kept). */
async function fleet(out: string, log: (line: string) => void): Promise<void> {
  const { runFleetScenario, fleetSection, upsertFleetSection } = await import('./scenarios/fleet.js');
  const env = process.env;
  const opts = { jobs: Number(env['BENCH_FLEET_JOBS'] ?? 50), rate: Number(env['BENCH_FLEET_RATE'] ?? 1.2), burst: Number(env['BENCH_FLEET_BURST'] ?? 25) };
  const runs = await runFleetScenario({ ...opts, pgUrl: env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', log });
  for (const r of runs) log(`fleet ${r.label}: ${JSON.stringify(r)}`);
  const results = join(out, 'RESULTS.md');
  const before = existsSync(results) ? readFileSync(results, 'utf8') : '# Benchmark results\n';
  writeFileSync(results, upsertFleetSection(before, fleetSection(runs, new Date(), opts)));
  log(`wrote the fleet section of ${results}`);
}

async function main(): Promise<void> {
  const out = process.env['BENCH_OUT'] ?? join(dirname(fileURLToPath(import.meta.url)), 'out');
  mkdirSync(out, { recursive: true });
  const started = Date.now();
  const log = (line: string): void => console.log(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
  const only = process.argv.slice(2);
  if (only.length > 0) {
    if (only.some((s) => s !== 'history' && s !== 'learn' && s !== 'fleet')) throw new Error(`unknown scenario ${only.join(' ')} (known: history, learn, fleet; none = everything)`);
    if (only.includes('learn')) await runLearn(out, log);
    if (only.includes('history')) await history(out, log);
    if (only.includes('fleet')) await fleet(out, log);
    return;
  }
  // Loaded only for the full run, so `history` alone starts without the other scenarios' modules.
  const { runBench } = await import('./core.js');
  const { evaluateTargets, writeReport } = await import('./report.js');
  const config = await configFromEnv(process.env);
  const previous = existsSync(join(out, 'RESULTS.md')) ? readFileSync(join(out, 'RESULTS.md'), 'utf8') : '';
  const results = await runBench(config, log);
  const written = await writeReport(out, results);
  await runLearn(out, log);
  for (const t of evaluateTargets(results)) {
    console.log(`${t.pass === null ? '–' : t.pass ? 'PASS' : 'MISS'}  ${t.figure}: ${t.measured} (target ${t.target}; ${t.margin})`);
  }
  console.log(`wrote ${written.markdown} and ${written.chart}`);
  // writeReport rewrote RESULTS.md: put the previous history section back before measuring a new one.
  const kept = previous.indexOf('<!-- history:start -->');
  if (kept >= 0) writeFileSync(written.markdown, upsertHistorySection(readFileSync(written.markdown, 'utf8'), previous.slice(kept, previous.indexOf('<!-- history:end -->') + '<!-- history:end -->'.length)));
  await history(out, log);
  await fleet(out, log);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
