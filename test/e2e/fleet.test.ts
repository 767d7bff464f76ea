/**
 * Two real bot processes (src/main.ts in child processes) on one PostgreSQL
 * schema, sharded (SHARD_COUNT=2, SHARD_IDS=0 / 1), one fake Discord whose
 * gateway sends each guild's interactions to the shard owning it, and one
 * local KIE server whose request log covers both processes. PostgreSQL
 * only: skipped when the test server is unreachable (and REQUIRE_POSTGRES
 * is not set).
 *
 * The steps run in order on the same fleet: sharded burst → shared channel
 * budget → kill -9 → SIGTERM (with a restarted second process).
 */
import { ApplicationCommandOptionType } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpUrlOf, until, type BotProcess } from '../support/botProcess.js';
import { testPostgresUrl } from '../support/backends.js';
import { slidingWindowMax } from '../../bench/stats.js';
import { fleetGuilds, shardOf, startFleet, type Fleet, type SentInteraction } from '../support/fleet.js';
import type { GatewaySession } from '../support/fakeGateway.js';

const PG = testPostgresUrl();
const LEASE_TTL_S = 5;
const GUILDS = fleetGuilds(4, 3);
/** How long the next KIE tasks take (changed per step). */
let taskMs = 3_500;

let fleet: Fleet;
let a: BotProcess;
let b: BotProcess;
let sessionA: GatewaySession;
let sessionB: GatewaySession;

const guildsOfShard = (shard: number) => GUILDS.filter((g) => shardOf(g.id, 2) === shard);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every interaction has a result post, then a little longer so a duplicate would show. */
async function allDelivered(sent: readonly SentInteraction[], ms: number): Promise<void> {
  await until(
    'every job delivered',
    () => (sent.every((s) => fleet.deliveries(s.token).length > 0) ? true : undefined),
    () => `${sent.filter((s) => fleet.deliveries(s.token).length === 0).length} of ${sent.length} undelivered\nA:\n${a.output().slice(-3000)}\nB:\n${b.output().slice(-3000)}`,
    ms,
  );
  await sleep(1_500);
}

/** The jobs whose prompt carries `tag`, with their lease holders. */
async function jobsTagged(tag: string): Promise<{ id: string; lease_owner: string | null; task_id: string | null }[]> {
  const { rows } = await fleet.sql.query<{ id: string; lease_owner: string | null; task_id: string | null }>(
    'select id, lease_owner, task_id from jobs where data like $1 order by id',
    [`%${tag}%`],
  );
  return rows;
}

/** Figures printed at the end (the report quotes them; the bench measures them properly). */
const figures: Record<string, number> = {};

const ownedBy = (owner: string | null, bot: BotProcess): boolean => owner !== null && owner.includes(`:${bot.pid}:`);

describe.skipIf(!PG)('two bot processes on one PostgreSQL', () => {
  beforeAll(async () => {
    fleet = await startFleet({
      postgresUrl: PG!,
      guilds: GUILDS,
      kie: { durationMs: () => taskMs, seed: 12 },
      // Tasks of a few seconds: the schedule at a tenth (fast: first look at 3 s, then every 0.28 s).
      env: { LEASE_TTL_SECONDS: String(LEASE_TTL_S), SCHEDULE_TIME_SCALE: '0.1', SHARD_COUNT: '2' },
    });
    a = fleet.start({ SHARD_IDS: '0' });
    b = fleet.start({ SHARD_IDS: '1' });
    [sessionA, sessionB] = await Promise.all([fleet.online(a, 0), fleet.online(b, 1)]);
  }, 90_000);

  afterAll(async () => {
    console.info(`fleet test figures: ${JSON.stringify(figures)}`);
    await fleet?.close();
  }, 30_000);

  it('each process identifies as its shard and gets only its guilds; 24 jobs are delivered once each, ≤ 20 creates per 10 s, no 429', async () => {
    expect(sessionA.identify?.shard).toEqual([0, 2]);
    expect(sessionB.identify?.shard).toEqual([1, 2]);
    const sent: SentInteraction[] = [];
    for (let i = 0; i < 24; i++) {
      const guild = GUILDS[i % 4]!;
      sent.push(fleet.imagine(guild.id, guild.channels[(i >> 2) % 2]!.id, `fleet burst ${i}`));
    }
    expect(sent.every((s) => s.sessions === 1)).toBe(true);
    // The gateway sent each guild's interactions to the shard that owns it, and both shards had some.
    expect(sessionA.dispatchedGuilds.length).toBeGreaterThan(0);
    expect(sessionB.dispatchedGuilds.length).toBeGreaterThan(0);
    expect(sessionA.dispatchedGuilds.every((g) => g !== null && shardOf(g, 2) === 0)).toBe(true);
    expect(sessionB.dispatchedGuilds.every((g) => g !== null && shardOf(g, 2) === 1)).toBe(true);

    await allDelivered(sent, 45_000);
    expect(sent.map((s) => fleet.deliveries(s.token).length)).toEqual(sent.map(() => 1));
    // KIE_POLLS_PER_SECOND (8) is the fleet's: each of the two polls at 4 a second.
    for (const bot of [a, b]) expect(bot.logs().filter((l) => l.msg.startsWith('poll share')).at(-1)).toMatchObject({ live: 2, perSecond: 4 });
    const creates = fleet.creates().filter((c) => c.prompt.includes('fleet burst'));
    expect(creates).toHaveLength(24);
    expect(creates.every((c) => c.code === 200)).toBe(true);
    expect(new Set(creates.map((c) => c.taskId)).size).toBe(24);
    figures.maxCreatesPer10s = slidingWindowMax(creates.map((c) => c.at), 10_000);
    expect(figures.maxCreatesPer10s).toBeLessThanOrEqual(20);
    expect(fleet.kie.requests.filter((r) => r.responseCode === 429)).toEqual([]);
  }, 60_000);

  it("a channel budget holds when both processes admit into it at once (each gets half of a burst, as if misrouted)", async () => {
    const guild = guildsOfShard(0)[0]!;
    const channel = guild.channels[2]!.id;
    // 24 credits a day: three fast grids (8 each).
    const settings = fleet.slash(guild.id, channel, 'settings', [
      { type: ApplicationCommandOptionType.Subcommand, name: 'set', options: [{ type: ApplicationCommandOptionType.Number, name: 'daily_budget', value: 24 }] },
    ]);
    await until('settings answered', () => (fleet.fake.interactionFor(settings.token)?.ackType ? true : undefined), a.output, 10_000);
    await sleep(300);
    const sent: SentInteraction[] = [];
    for (let i = 0; i < 10; i++) sent.push(fleet.imagine(guild.id, channel, `fleet budget ${i}`, [i % 2 === 0 ? sessionA : sessionB]));
    expect(sent.every((s) => s.sessions === 1)).toBe(true);
    // Every interaction is answered: a job or a refusal.
    await until('all answered', () => (sent.every((s) => fleet.fake.interactionFor(s.token)?.ackType) ? true : undefined), () => a.output() + b.output(), 15_000);
    await sleep(1_000);
    const creates = fleet.creates().filter((c) => c.prompt.includes('fleet budget'));
    figures.budgetBurstAdmitted = creates.length;
    expect(creates.length).toBe(3);
    const { rows } = await fleet.sql.query<{ credits: number }>('select coalesce(sum(credits), 0) as credits from ledger where channel_id = $1', [channel]);
    expect(Number(rows[0]!.credits)).toBeLessThanOrEqual(24);
  }, 30_000);

  /** Three /imagine per guild of `shard` (its process: `bot`), prompts tagged `tag`; once KIE created them all and their jobs hold their task ids. */
  async function startedAtKie(tag: string, shard: number, bot: BotProcess): Promise<SentInteraction[]> {
    const sent = guildsOfShard(shard).flatMap((g, i) => [0, 1, 2].map((c) => fleet.imagine(g.id, g.channels[c % 2]!.id, `${tag} ${i}-${c}`)));
    await until('creates answered', () => (fleet.creates().filter((c) => c.prompt.includes(tag) && c.code === 200).length === sent.length ? true : undefined), bot.output, 15_000);
    for (let i = 0; i < 40 && (await jobsTagged(tag)).some((j) => j.task_id === null); i++) await sleep(50);
    return sent;
  }

  it('kill -9 of one process mid-job: the other takes its jobs within the lease TTL and delivers each once', async () => {
    taskMs = 6_000;
    const sent = await startedAtKie('fleet kill', 1, b);
    const jobs = await jobsTagged('fleet kill');
    expect(jobs).toHaveLength(sent.length);
    expect(jobs.every((j) => ownedBy(j.lease_owner, b))).toBe(true);

    const killedAt = Date.now();
    b.kill('SIGKILL');
    let takenAt = 0;
    for (;;) {
      const now = await jobsTagged('fleet kill');
      if (now.every((j) => ownedBy(j.lease_owner, a) || j.lease_owner === null)) {
        takenAt = Date.now();
        break;
      }
      if (Date.now() - killedAt > (LEASE_TTL_S + 5) * 1000) break;
      await sleep(50);
    }
    figures.takeoverAfterKillMs = takenAt - killedAt;
    expect(takenAt - killedAt).toBeGreaterThan(0);
    expect(takenAt - killedAt).toBeLessThanOrEqual((LEASE_TTL_S + 3) * 1000);
    // The second shard's process comes back (the SIGTERM step needs two) while A delivers.
    const b2 = fleet.start({ SHARD_IDS: '1' });
    await allDelivered(sent, 20_000);
    expect(sent.map((s) => fleet.deliveries(s.token).length)).toEqual(sent.map(() => 1));
    const creates = fleet.creates().filter((c) => c.prompt.includes('fleet kill'));
    expect(creates).toHaveLength(sent.length); // never re-sent to KIE
    expect(a.logs().some((l) => l.msg === 'took over jobs')).toBe(true);
    // The survivor's /metrics shows the takeovers, the credits it spent and its KIE requests.
    const metrics = await (await fetch(`${await httpUrlOf(a)}/metrics`)).text();
    // (B may also have held a job of the budget burst.)
    expect(Number(/^teamjourney_lease_takeovers_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(jobs.length);
    expect(metrics).toMatch(/^teamjourney_credits_spent_total\{provider="kie",kind="grid",speed="\w+"\} [1-9]/m);
    expect(metrics).toMatch(/^teamjourney_provider_requests_total\{provider="kie",endpoint="generate",code="200"\} [1-9]/m);
    expect(metrics).toMatch(/^teamjourney_delivery_lag_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds /m);
    b = b2;
    sessionB = await fleet.online(b, 1);
  }, 60_000);

  it('SIGTERM: leases are handed back and taken by the other process within 2 s, exit 0 within 10 s, each job delivered once', async () => {
    taskMs = 6_000;
    const sent = await startedAtKie('fleet term', 0, a);
    expect((await jobsTagged('fleet term')).every((j) => ownedBy(j.lease_owner, a))).toBe(true);

    const termAt = Date.now();
    a.kill('SIGTERM');
    let takenAt = 0;
    while (Date.now() - termAt < 5_000) {
      const now = await jobsTagged('fleet term');
      if (now.every((j) => ownedBy(j.lease_owner, b))) {
        takenAt = Date.now();
        break;
      }
      await sleep(50);
    }
    figures.takenAfterSigtermMs = takenAt - termAt;
    expect(takenAt).toBeGreaterThan(0);
    expect(takenAt - termAt).toBeLessThanOrEqual(2_000);
    const code = await Promise.race([a.exited, sleep(10_000).then(() => 'timeout' as const)]);
    figures.exitAfterSigtermMs = Date.now() - termAt;
    expect(code).toBe(0);
    expect(a.logs().find((l) => l.msg === 'leases: handed back')?.released).toBeGreaterThan(0);
    await allDelivered(sent, 20_000);
    expect(sent.map((s) => fleet.deliveries(s.token).length)).toEqual(sent.map(() => 1));
    expect(fleet.creates().filter((c) => c.prompt.includes('fleet term'))).toHaveLength(sent.length);
  }, 40_000);
});
