/**
 * The fleet scenario (`npm run bench -- fleet`): 1, 2 and 4 real bot
 * processes (src/main.ts, sharded SHARD_COUNT=N / SHARD_IDS=i) on one
 * PostgreSQL schema, one fake Discord whose gateway routes each guild to its
 * shard, and one local KIE server (test/support/fleet.ts, as the fleet test
 * uses) — then a failover run: 2 processes, kill -9 of one halfway.
 *
 * The load is the lag bench's, scaled down for real processes: /imagine
 * grids arriving as a Poisson stream over 16 channels in 8 guilds, default
 * speed (fast, 30–100 s of task time). Real processes keep KIE's create
 * limit in real seconds (20 per 10 s), so the time scale is 0.2, not the lag
 * runs' 0.05: a task runs a fifth of its real time, the schedule is scaled
 * the same (SCHEDULE_TIME_SCALE) and so is the read budget
 * (KIE_POLLS_PER_SECOND = 8 / 0.2 = 40 for the whole fleet); lags are
 * reported real-equivalent (divided by the scale). Lease TTL and takeover
 * are real time (LEASE_TTL_SECONDS at its default, 20 s).
 *
 *   BENCH_FLEET_JOBS=n       grids per run (default 50)
 *   BENCH_FLEET_RATE=r       arrivals per wall second (default 1.2)
 *   BENCH_FLEET_BURST=n      grids sent at the same instant a third of the way in (default 25), as the
 *                            lag load's burst: more than KIE's 20 creates per 10 s, across every process
 *   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test
 */
import { cpus, loadavg } from 'node:os';
import { createRng } from '../../src/providers/kie/simulator/random.js';
import { fleetGuilds, shardOf, startFleet, type Fleet, type SentInteraction } from '../../test/support/fleet.js';
import { percentile, slidingWindowMax } from '../stats.js';

export const FLEET_SCALE = 0.2;
const LEASE_TTL_S = 20;

export interface FleetRunResult {
  label: string;
  processes: number;
  jobs: number;
  delivered: number;
  /** KIE done → result posted, real-equivalent seconds. */
  lagP50: number;
  lagP95: number;
  duplicateDeliveries: number;
  /** Of those, how many were a second message (not a repeated edit of the same reply). */
  duplicateMessages: number;
  duplicateCreates: number;
  maxCreatesPer10s: number;
  kie429: number;
  readsPerSecondPeak: number;
  /** Failover only: kill -9 → the survivor holds each of the dead process's jobs (s, real time). */
  takeoverP50: number | null;
  takeoverP95: number | null;
  /** Failover only: jobs the dead process held that the survivor took (of how many). */
  takenOver: string | null;
  /** Jobs with no result post, by their state in the database (e.g. failed: the user got an error instead). */
  undelivered: Record<string, number>;
  /** Failover only: kill -9 → each taken-over job's result posted, p95 (s, real time). */
  takenDeliveredP95: number | null;
  wallS: number;
  startS: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startProcesses(fleet: Fleet, n: number): Promise<ReturnType<Fleet['start']>[]> {
  const bots = Array.from({ length: n }, (_, i) => fleet.start(n > 1 ? { SHARD_COUNT: String(n), SHARD_IDS: String(i) } : {}));
  await Promise.all(bots.map((b, i) => fleet.online(b, i, 120_000)));
  return bots;
}

async function oneRun(opts: { pgUrl: string; processes: number; jobs: number; rate: number; burst: number; failover: boolean; log: (l: string) => void }): Promise<FleetRunResult> {
  const guilds = fleetGuilds(8, 2);
  const rng = createRng(opts.processes * 7 + (opts.failover ? 1 : 0));
  const fleet = await startFleet({
    postgresUrl: opts.pgUrl,
    guilds,
    kie: { timeScale: FLEET_SCALE, seed: 42 + opts.processes },
    env: {
      SCHEDULE_TIME_SCALE: String(FLEET_SCALE),
      KIE_POLLS_PER_SECOND: String(Math.round(8 / FLEET_SCALE)),
      LEASE_TTL_SECONDS: String(LEASE_TTL_S),
    },
  });
  try {
    const t0 = Date.now();
    const bots = await startProcesses(fleet, opts.processes);
    const startS = (Date.now() - t0) / 1000;
    opts.log(`fleet: ${opts.processes} process(es) online in ${startS.toFixed(1)} s${opts.failover ? ' (failover run)' : ''}`);
    const channels = guilds.flatMap((g) => g.channels.map((c) => ({ guildId: g.id, channelId: c.id, shard: shardOf(g.id, opts.processes) })));
    const sent: SentInteraction[] = [];
    const begun = Date.now();
    let killed: { at: number; pid: number; jobs: string[] } | null = null;
    for (let i = 0; i < opts.jobs; i++) {
      // After the kill, the dead process's shard is offline (Discord would have no one to send its guilds' commands to).
      const open = killed ? channels.filter((c) => c.shard !== 1) : channels;
      const ch = open[Math.floor(rng() * open.length)]!;
      sent.push(fleet.imagine(ch.guildId, ch.channelId, `fleet bench ${i}`));
      if (i === Math.floor(opts.jobs / 3)) {
        for (let k = 0; k < opts.burst; k++) {
          const b = open[k % open.length]!;
          sent.push(fleet.imagine(b.guildId, b.channelId, `fleet bench ${opts.jobs + k}`));
        }
      }
      if (opts.failover && killed === null && i === Math.floor(opts.jobs / 2)) {
        const victim = bots[1]!;
        const { rows } = await fleet.sql.query<{ id: string }>('select id from jobs where needs_work = 1 and lease_owner like $1', [`%:${victim.pid}:%`]);
        victim.kill('SIGKILL');
        killed = { at: Date.now(), pid: victim.pid, jobs: rows.map((r) => r.id) };
        opts.log(`fleet: kill -9 of process 2 holding ${rows.length} open jobs`);
      }
      await sleep((-Math.log(1 - rng()) / opts.rate) * 1000);
    }
    // Takeover: when each job the dead process held is held by the survivor (or finished).
    const takeovers: number[] = [];
    if (killed) {
      const pending = new Set(killed.jobs);
      const survivor = bots[0]!.pid;
      while (pending.size > 0 && Date.now() - killed.at < (LEASE_TTL_S + 40) * 1000) {
        const { rows } = await fleet.sql.query<{ id: string; lease_owner: string | null; needs_work: number }>(
          'select id, lease_owner, needs_work from jobs where id = any($1)',
          [[...pending]],
        );
        for (const r of rows) {
          if ((r.lease_owner ?? '').includes(`:${survivor}:`) || Number(r.needs_work) === 0) {
            takeovers.push((Date.now() - killed.at) / 1000);
            pending.delete(r.id);
          }
        }
        await sleep(100);
      }
    }
    // Every job delivered, or none left open in the database (a failed job's message carries no files), or a generous bound.
    const deadline = Date.now() + 180_000;
    const openJobs = async (): Promise<number> => Number((await fleet.sql.query<{ n: string }>('select count(*) as n from jobs where needs_work = 1')).rows[0]?.n ?? 0);
    while (Date.now() < deadline && !sent.every((s) => fleet.deliveries(s.token).length > 0) && (await openJobs()) > 0) await sleep(250);
    await sleep(2_000); // a duplicate would show by now
    const wallS = (Date.now() - begun) / 1000;
    const undelivered: Record<string, number> = {};
    for (const s of sent.filter((x) => fleet.deliveries(x.token).length === 0)) {
      const { rows } = await fleet.sql.query<{ state: string; data: string }>('select state, data from jobs where data like $1', [`%${s.prompt}"%`]);
      const key = rows[0] ? `${rows[0].state}${(JSON.parse(rows[0].data) as { error?: { code?: string } }).error?.code ? ` (${(JSON.parse(rows[0].data) as { error: { code: string } }).error.code})` : ''}` : 'no job';
      undelivered[key] = (undelivered[key] ?? 0) + 1;
    }

    // The dead process's jobs, by prompt tag: their lag includes the real-time takeover, reported apart.
    const takenTags = new Set<string>();
    if (killed && killed.jobs.length > 0) {
      const { rows } = await fleet.sql.query<{ data: string }>('select data from jobs where id = any($1)', [killed.jobs]);
      for (const r of rows) {
        const tag = /fleet bench \d+\b/.exec(r.data)?.[0];
        if (tag) takenTags.add(tag);
      }
    }
    const takenDelivered: number[] = [];
    const tasks = fleet.kie.tasks;
    const lags: number[] = [];
    let duplicateDeliveries = 0;
    let duplicateMessages = 0;
    let delivered = 0;
    const creates = fleet.creates();
    const tagOf = (prompt: string): string => /fleet bench \d+\b/.exec(prompt)?.[0] ?? prompt;
    const createsOf = new Map<string, typeof creates>();
    for (const c of creates) createsOf.set(tagOf(c.prompt), [...(createsOf.get(tagOf(c.prompt)) ?? []), c]);
    for (const s of sent) {
      const posts = fleet.deliveries(s.token);
      if (posts.length > 0) delivered++;
      duplicateDeliveries += Math.max(0, posts.length - 1);
      duplicateMessages += Math.max(0, posts.filter((p) => p.route !== 'webhookEdit').length - (posts[0]?.route === 'webhookEdit' ? 0 : 1));
      const create = createsOf.get(s.prompt)?.[0];
      const task = create?.taskId ? tasks.get(create.taskId) : undefined;
      if (killed && takenTags.has(s.prompt)) {
        if (posts[0]) takenDelivered.push((posts[0].at - killed.at) / 1000);
      } else if (posts[0] && task) lags.push(Math.max(0, posts[0].at - task.finishAt) / 1000 / FLEET_SCALE);
    }
    const reads = fleet.kie.requests.filter((r) => r.endpoint === 'recordInfo').map((r) => r.at);
    const sortedLags = [...lags].sort((a, b) => a - b);
    const sortedTakeovers = [...takeovers].sort((a, b) => a - b);
    return {
      label: opts.failover ? `failover (kill -9 one of ${opts.processes})` : `${opts.processes} process${opts.processes > 1 ? 'es' : ''}`,
      processes: opts.processes,
      jobs: sent.length,
      delivered,
      lagP50: percentile(sortedLags, 50),
      lagP95: percentile(sortedLags, 95),
      duplicateDeliveries,
      duplicateMessages,
      duplicateCreates: [...createsOf.values()].reduce((n, v) => n + Math.max(0, v.length - 1), 0),
      maxCreatesPer10s: slidingWindowMax(creates.map((c) => c.at), 10_000),
      kie429: fleet.kie.requests.filter((r) => r.responseCode === 429).length,
      readsPerSecondPeak: slidingWindowMax(reads, 1_000),
      takeoverP50: killed ? percentile(sortedTakeovers, 50) : null,
      takeoverP95: killed ? percentile(sortedTakeovers, 95) : null,
      undelivered,
      takenOver: killed ? `${takeovers.length}/${killed.jobs.length}` : null,
      takenDeliveredP95: killed ? percentile([...takenDelivered].sort((a, b) => a - b), 95) : null,
      wallS,
      startS,
    };
  } finally {
    await fleet.close();
  }
}

export async function runFleetScenario(opts: { pgUrl: string; jobs: number; rate: number; burst: number; log: (l: string) => void }): Promise<FleetRunResult[]> {
  const runs: FleetRunResult[] = [];
  // BENCH_FLEET_RUNS=1,2,4,failover (default: all) picks runs, e.g. to look at one.
  const wanted = (process.env['BENCH_FLEET_RUNS'] ?? '1,2,4,failover').split(',');
  for (const processes of [1, 2, 4]) if (wanted.includes(String(processes))) runs.push(await oneRun({ ...opts, processes, failover: false }));
  if (wanted.includes('failover')) runs.push(await oneRun({ ...opts, processes: 2, failover: true }));
  return runs;
}

const SECTION_START = '<!-- fleet:start -->';
const SECTION_END = '<!-- fleet:end -->';
const fmt = (v: number | null, digits = 2): string => (v === null || Number.isNaN(v) ? '–' : v.toFixed(digits));

export function fleetSection(runs: FleetRunResult[], when: Date, opts: { jobs: number; rate: number; burst: number }): string {
  const [one, five] = loadavg();
  const cols = runs.map((r) => `**${r.label}**`);
  const row = (label: string, target: string, pick: (r: FleetRunResult) => string) => `| ${label} | ${target} | ${runs.map(pick).join(' | ')} |`;
  const mark = (ok: boolean) => (ok ? '✅' : '❌');
  const failover = runs.find((r) => r.takeoverP95 !== null);
  return [
    SECTION_START,
    '## Several processes (fleet)',
    '',
    `\`npm run bench -- fleet\` on ${when.toISOString().slice(0, 10)}: real bot processes (src/main.ts, each in its own Node) on one PostgreSQL schema, sharded by guild (SHARD_COUNT = N), one fake Discord (REST and a gateway routing each guild to its shard) and one local KIE server, as test/e2e/fleet.test.ts runs them. Load, scaled down from the lag runs for real processes: ${opts.jobs} /imagine grids per run at default speed (fast, 30–100 s of task time) arriving as a Poisson stream of ${opts.rate} a wall second over 16 channels in 8 guilds, plus ${opts.burst} sent at the same instant a third of the way in (more than KIE's 20 creates per 10 s, spread over every process). Time scale **${FLEET_SCALE}** (not 0.05: KIE's create limit stays in real seconds in a real process), applied to task durations, the polling schedule (SCHEDULE_TIME_SCALE) and the fleet's read budget (KIE_POLLS_PER_SECOND = ${Math.round(8 / FLEET_SCALE)} = 8 / ${FLEET_SCALE}); lags are real-equivalent. Lease TTL ${LEASE_TTL_S} s (the default) in real time; the failover run kills (SIGKILL) the second of two processes halfway through the arrivals.`,
    '',
    `Machine: ${cpus().length} cores shared with other engineers' work; load average ${one!.toFixed(1)} (1 min) / ${five!.toFixed(1)} (5 min) when the run ended, so the lags include waiting for a core (at scale ${FLEET_SCALE} every wall millisecond of delay counts ${1 / FLEET_SCALE} ms).`,
    '',
    `| Figure | Target | ${cols.join(' | ')} |`,
    `|---|---|${runs.map(() => '---').join('|')}|`,
    row('Jobs delivered', 'all', (r) => `${r.delivered}/${r.jobs}${Object.keys(r.undelivered).length ? ` (not: ${Object.entries(r.undelivered).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}`),
    row('Delivery lag p50 / p95 (s, real-equivalent; failover: jobs not taken over)', '–', (r) => `${fmt(r.lagP50)} / ${fmt(r.lagP95)}`),
    row('Duplicate deliveries (of which a second message, not a repeated edit of the reply)', '0', (r) => `${mark(r.duplicateDeliveries === 0)} ${r.duplicateDeliveries} (${r.duplicateMessages})`),
    row('Duplicate creates', '0', (r) => `${mark(r.duplicateCreates === 0)} ${r.duplicateCreates}`),
    row('Most creates in any 10 s / KIE 429s', '≤ 20 / 0', (r) => `${mark(r.maxCreatesPer10s <= 20 && r.kie429 === 0)} ${r.maxCreatesPer10s} / ${r.kie429}`),
    row(`Peak status reads in any second (fleet budget ${Math.round(8 / FLEET_SCALE)})`, '–', (r) => String(r.readsPerSecondPeak)),
    row('Takeover after kill -9: p50 / p95 (s, real time)', 'p95 ≤ 30 s', (r) =>
      r.takeoverP95 === null ? '–' : `${mark(r.takeoverP95 <= 30)} ${fmt(r.takeoverP50, 1)} / ${fmt(r.takeoverP95, 1)} (${r.takenOver} jobs)`,
    ),
    row('Taken-over jobs: kill -9 → result posted, p95 (s, real time)', '–', (r) => (r.takenDeliveredP95 === null ? '–' : fmt(r.takenDeliveredP95, 1))),
    row('All processes online after start (s)', '–', (r) => fmt(r.startS, 1)),
    row('Wall time of the load (s)', '–', (r) => fmt(r.wallS, 0)),
    '',
    failover
      ? [
          `Takeover is bounded by the lease: the dead process's leases lapse at most LEASE_TTL_SECONDS (${LEASE_TTL_S} s) after its last renewal (every TTL / 4), and the survivor looks for lapsed leases every second; a job that finished meanwhile counts when the survivor delivers it.`,
          '',
          "Jobs the dead process had admitted but not yet sent — most waiting for a slot in KIE's create window after the burst — are sent by the survivor: each job is marked (create_sent_at) right before its create leaves, so one without the mark provably never reached KIE. Only a job marked but without a recorded answer is failed as interrupted (the user is told; never re-sent: KIE may have it). What a kill -9 can still lose is a command the process received but had not yet recorded: nothing in the database names it, so nobody answers (Discord shows the user \"The application did not respond\"); a run where that happened lists it above as *no job*.",
        ].join('\n')
      : '',
    SECTION_END,
  ].join('\n');
}

export function upsertFleetSection(markdown: string, section: string): string {
  const a = markdown.indexOf(SECTION_START);
  const b = markdown.indexOf(SECTION_END);
  if (a >= 0 && b > a) return markdown.slice(0, a) + section + markdown.slice(b + SECTION_END.length);
  return `${markdown.trimEnd()}\n\n${section}\n`;
}

