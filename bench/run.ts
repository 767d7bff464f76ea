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
 * A run writes to bench/out/ so that trying the bench leaves the tree clean;
 * `npm run bench:publish` writes bench/RESULTS.md and the chart, to be
 * committed deliberately with the change they measure.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL_CONFIG, QUICK_CONFIG, runBench, type BenchConfig } from './core.js';
import { renderLearnSection, writeLearnSection } from './learnReport.js';
import { evaluateTargets, writeReport } from './report.js';
import { runLearnScenario, runPressureScenario } from './scenarios/learn.js';

function configFromEnv(env: NodeJS.ProcessEnv): BenchConfig {
  const base = env['BENCH_QUICK'] === '1' ? QUICK_CONFIG : FULL_CONFIG;
  const scale = env['BENCH_TIME_SCALE'] === undefined ? base.timeScale : Number(env['BENCH_TIME_SCALE']);
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`BENCH_TIME_SCALE must be in (0, 1], got ${env['BENCH_TIME_SCALE']}`);
  return { ...base, timeScale: scale };
}

/** The learned-timings runs, written into RESULTS.md's own section. */
async function runLearn(out: string, log: (line: string) => void): Promise<void> {
  const t0 = Date.now();
  const runs = await runLearnScenario(log);
  const pressure = await runPressureScenario(log);
  const section = renderLearnSection(runs, pressure, { date: new Date().toISOString().slice(0, 10), wallS: (Date.now() - t0) / 1000 });
  console.log(`wrote the learned-timings section of ${await writeLearnSection(out, section)}`);
}

async function main(): Promise<void> {
  const config = configFromEnv(process.env);
  const out = process.env['BENCH_OUT'] ?? join(dirname(fileURLToPath(import.meta.url)), 'out');
  const started = Date.now();
  const log = (line: string): void => console.log(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
  const only = process.argv[2];
  if (only === 'learn') return runLearn(out, log);
  if (only !== undefined) throw new RangeError(`unknown bench part '${only}' (known: learn)`);
  const results = await runBench(config, log);
  const written = await writeReport(out, results);
  await runLearn(out, log);
  for (const t of evaluateTargets(results)) {
    console.log(`${t.pass === null ? '–' : t.pass ? 'PASS' : 'MISS'}  ${t.figure}: ${t.measured} (target ${t.target}; ${t.margin})`);
  }
  console.log(`wrote ${written.markdown} and ${written.chart}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
