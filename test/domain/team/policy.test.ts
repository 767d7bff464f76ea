import { afterEach, describe, expect, it } from 'vitest';
import { transition, type Job } from '../../../src/domain/job.js';
import {
  MAX_QUEUE_LENGTH,
  channelUsage,
  checkButtonPermission,
  checkCancelPermission,
  checkPrompt,
  describeJob,
  evaluateAdmission,
  findBannedWord,
  findBannedMatch,
  type ChannelUsage,
} from '../../../src/domain/team/policy.js';
import { DEFAULT_SETTINGS, mergeSettings, type EffectiveSettings } from '../../../src/domain/team/settings.js';
import { DAY_MS } from '../../../src/domain/team/ledger.js';
import { openStore, type Store } from '../../../src/store/store.js';
import {
  ALICE,
  BOB,
  CHANNEL,
  GUILD,
  NOON,
  OTHER_CHANNEL,
  entry,
  fakeClock,
  makeJob,
  memoryStore,
  openTeam,
  tempSqlite,
} from './fixtures.js';

const settings = (patch: Partial<EffectiveSettings> = {}): EffectiveSettings => ({ ...mergeSettings({}, {}).values, ...patch });
const idle: ChannelUsage = { spentToday: 0, spentThisMonth: 0, userJobsToday: 0, active: 0, waiting: 0 };
const usage = (patch: Partial<ChannelUsage>): ChannelUsage => ({ ...idle, ...patch });

describe('findBannedWord / checkPrompt', () => {
  const words = ['gore', 'Blood Bath', 'c++'];
  it.each([
    ['GORE everywhere', 'gore'],
    ['so much gore.', 'gore'],
    ['a blood   bath at noon', 'Blood Bath'],
    ['written in c++ --v 7', 'c++'],
    ['(gore)', 'gore'],
  ])('finds a banned word in %j', (text, found) => {
    expect(findBannedWord(words, text)).toBe(found);
  });

  it.each(['gorey movie', 'folklore', 'bloodbath', 'gore_fest', 'gore9', 'bloodbaths', 'ångore'])('matches whole words only: %j', (text) => {
    expect(findBannedWord(words, text)).toBeNull();
  });

  it('says which word and does not match in an empty list', () => {
    expect(checkPrompt({ bannedWords: ['gore'] }, 'some Gore')).toEqual({ ok: false, reason: expect.stringContaining('“Gore”') });
    expect(checkPrompt({ bannedWords: [] }, 'gore')).toEqual({ ok: true });
    expect(findBannedWord(['  '], 'anything')).toBeNull();
  });
});

describe('checkButtonPermission / checkCancelPermission', () => {
  const job = makeJob({ userId: ALICE });
  it('lets anyone press when buttons are for anyone', () => {
    expect(checkButtonPermission({ buttons: 'anyone' }, job, BOB)).toEqual({ ok: true });
  });
  it('lets only the author press when buttons are for the author', () => {
    expect(checkButtonPermission({ buttons: 'author' }, job, ALICE)).toEqual({ ok: true });
    const refused = checkButtonPermission({ buttons: 'author' }, job, BOB);
    expect(refused).toEqual({ ok: false, reason: expect.stringContaining(`<@${ALICE}>`) });
  });
  it('lets only the author cancel a queued job', () => {
    expect(checkCancelPermission(job, ALICE)).toEqual({ ok: true });
    expect(checkCancelPermission(job, BOB).ok).toBe(false);
  });
});

describe('describeJob', () => {
  it('names what was asked for with the right article', () => {
    expect(describeJob({ kind: 'grid', speed: 'fast' })).toBe('a fast job');
    expect(describeJob({ kind: 'video_hd', speed: null })).toBe('an HD video');
    expect(describeJob({ kind: 'video', speed: null })).toBe('an SD video');
    expect(describeJob({ kind: 'upscale', speed: null })).toBe('an upscale');
    expect(describeJob({ kind: 'vary', speed: 'relaxed' })).toBe('a relaxed variation');
  });
});

describe('channelUsage', () => {
  const today = Date.UTC(2025, 2, 14);
  it('sums today, this month, the user, active and waiting jobs', () => {
    const lines = [
      entry({ credits: 8, createdAt: today, userId: ALICE }),
      entry({ credits: 16, createdAt: today - 1, userId: ALICE }), // yesterday, this month
      entry({ credits: 3, createdAt: Date.UTC(2025, 1, 28, 23, 59), userId: ALICE }), // last month
      entry({ credits: 8, createdAt: NOON, userId: BOB, state: 'running' }),
      entry({ credits: 8, createdAt: NOON, userId: ALICE, state: 'pending' }),
      entry({ credits: 8, createdAt: NOON, userId: ALICE, state: 'queued' }),
      entry({ credits: 8, createdAt: NOON, userId: ALICE, state: 'failed' }),
      entry({ credits: 8, createdAt: NOON, userId: ALICE, state: 'cancelled' }),
      entry({ jobId: 'self', credits: 99, createdAt: NOON, state: 'pending' }),
    ];
    const u = channelUsage(lines, { userId: ALICE, now: NOON, countFailed: false, excludeJobId: 'self' });
    expect(u).toEqual({ spentToday: 32, spentThisMonth: 48, userJobsToday: 3, active: 2, waiting: 1 });
    const withFailed = channelUsage(lines, { userId: ALICE, now: NOON, countFailed: true, excludeJobId: 'self' });
    expect(withFailed).toMatchObject({ spentToday: 40, userJobsToday: 4 });
  });
});

describe('evaluateAdmission', () => {
  const job = makeJob({ kind: 'grid', speed: 'fast', credits: 8 });

  it('runs a job when nothing limits it', () => {
    expect(evaluateAdmission(job, settings(), idle)).toEqual({ verdict: 'run' });
  });

  it('refuses in a disabled channel, naming the channel', () => {
    const d = evaluateAdmission(job, settings({ enabled: false }), idle);
    expect(d).toEqual({ verdict: 'reject', reason: expect.stringContaining(`<#${CHANNEL}>`) });
    expect(d.verdict === 'reject' && d.reason).toMatch(/turned off/);
  });

  it('refuses a speed that is not allowed, listing the allowed ones', () => {
    const turbo = makeJob({ speed: 'turbo', credits: 16 });
    const d = evaluateAdmission(turbo, settings({ allowedSpeeds: ['relaxed', 'fast'] }), idle);
    expect(d).toEqual({ verdict: 'reject', reason: `turbo speed isn't allowed in <#${CHANNEL}>; allowed: relaxed, fast.` });
    expect(evaluateAdmission(job, settings({ allowedSpeeds: ['relaxed', 'fast'] }), idle).verdict).toBe('run');
  });

  it('refuses video where video is off, and HD where HD is off', () => {
    const sd = makeJob({ kind: 'video', credits: 15 });
    const hd = makeJob({ kind: 'video_hd', credits: 45 });
    const ext = makeJob({ kind: 'extend', credits: 15 });
    expect(evaluateAdmission(sd, settings({ videoAllowed: false }), idle).verdict).toBe('reject');
    expect(evaluateAdmission(ext, settings({ videoAllowed: false }), idle).verdict).toBe('reject');
    expect(evaluateAdmission(hd, settings({ videoAllowed: false }), idle).verdict).toBe('reject');
    expect(evaluateAdmission(sd, settings({ hdAllowed: false }), idle).verdict).toBe('run');
    const d = evaluateAdmission(hd, settings({ hdAllowed: false }), idle);
    expect(d).toEqual({ verdict: 'reject', reason: expect.stringMatching(/HD video isn't allowed/) });
  });

  it('refuses a banned word in a new prompt (grid and extend), not in upscale/vary', () => {
    const s = settings({ bannedWords: ['gore'] });
    expect(evaluateAdmission(makeJob({ prompt: 'Gore fest' }), s, idle)).toEqual({
      verdict: 'reject',
      reason: expect.stringContaining('“Gore”'),
    });
    expect(evaluateAdmission(makeJob({ kind: 'extend', prompt: 'more gore' }), s, idle).verdict).toBe('reject');
    expect(evaluateAdmission(makeJob({ kind: 'upscale', prompt: 'gore' }), s, idle).verdict).toBe('run');
  });

  describe('per-user daily job limit (5)', () => {
    const s = settings({ userDailyJobs: 5 });
    it('just under: 4 used → runs', () => expect(evaluateAdmission(job, s, usage({ userJobsToday: 4 })).verdict).toBe('run'));
    it('at: 5 used → refused with the numbers', () => {
      expect(evaluateAdmission(job, s, usage({ userJobsToday: 5 }))).toEqual({
        verdict: 'reject',
        reason: `You've used 5 of your 5 jobs today in <#${CHANNEL}>; the limit resets at 00:00 UTC.`,
      });
    });
    it('over: 6 used (limit lowered) → refused', () => expect(evaluateAdmission(job, s, usage({ userJobsToday: 6 })).verdict).toBe('reject'));
  });

  describe('daily budget (400), fast job costs 8', () => {
    const s = settings({ dailyBudget: 400 });
    it('just under: 391 spent (399 after) → runs', () => expect(evaluateAdmission(job, s, usage({ spentToday: 391 })).verdict).toBe('run'));
    it('at: 392 spent (400 after) → runs', () => expect(evaluateAdmission(job, s, usage({ spentToday: 392 })).verdict).toBe('run'));
    it('over: 393 spent (401 after) → refused with the numbers', () => {
      expect(evaluateAdmission(job, s, usage({ spentToday: 393 }))).toEqual({
        verdict: 'reject',
        reason: `<#${CHANNEL}> has 7 of 400 credits left today; a fast job costs 8. The daily budget resets at 00:00 UTC.`,
      });
    });
    it('already past the budget (lowered) → says 0 left', () => {
      const d = evaluateAdmission(job, s, usage({ spentToday: 450 }));
      expect(d.verdict === 'reject' && d.reason).toMatch(/has 0 of 400 credits left today/);
    });
    it('a zero budget refuses everything that costs', () => {
      expect(evaluateAdmission(job, settings({ dailyBudget: 0 }), idle).verdict).toBe('reject');
    });
  });

  describe('monthly budget (1000), HD video costs 45', () => {
    const hd = makeJob({ kind: 'video_hd', credits: 45 });
    const s = settings({ monthlyBudget: 1000 });
    it('just under → runs', () => expect(evaluateAdmission(hd, s, usage({ spentThisMonth: 954 })).verdict).toBe('run'));
    it('at → runs', () => expect(evaluateAdmission(hd, s, usage({ spentThisMonth: 955 })).verdict).toBe('run'));
    it('over → refused with the numbers', () => {
      expect(evaluateAdmission(hd, s, usage({ spentThisMonth: 956 }))).toEqual({
        verdict: 'reject',
        reason: `<#${CHANNEL}> has 44 of 1000 credits left this month; an HD video costs 45. The monthly budget resets on the 1st (UTC).`,
      });
    });
  });

  describe('concurrency (3)', () => {
    const s = settings({ maxConcurrent: 3 });
    it('just under: 2 active → runs', () => expect(evaluateAdmission(job, s, usage({ active: 2 }))).toEqual({ verdict: 'run' }));
    it('at: 3 active → queued at position 1', () =>
      expect(evaluateAdmission(job, s, usage({ active: 3 }))).toEqual({ verdict: 'queue', position: 1 }));
    it('over: 4 active (limit lowered) → queued', () => expect(evaluateAdmission(job, s, usage({ active: 4 })).verdict).toBe('queue'));
    it('behind others already waiting even with a free slot', () =>
      expect(evaluateAdmission(job, s, usage({ active: 0, waiting: 2 }))).toEqual({ verdict: 'queue', position: 3 }));
    it('refuses when the line is full', () => {
      expect(evaluateAdmission(job, s, usage({ active: 3, waiting: MAX_QUEUE_LENGTH - 1 })).verdict).toBe('queue');
      expect(evaluateAdmission(job, s, usage({ active: 3, waiting: MAX_QUEUE_LENGTH })).verdict).toBe('reject');
    });
  });

  it('checks a refusal before queueing: an over-budget job is refused, not queued', () => {
    const d = evaluateAdmission(job, settings({ dailyBudget: 10, maxConcurrent: 1 }), usage({ spentToday: 8, active: 1 }));
    expect(d.verdict).toBe('reject');
  });
});

// ---------------------------------------------------------------------------
// TeamPolicy over a real store
// ---------------------------------------------------------------------------

describe('TeamPolicy', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  const team = async (clock = fakeClock(), extra = {}) => {
    const store = await memoryStore();
    stores.push(store);
    return { ...(await openTeam(store, clock, extra)), clock };
  };
  /** What the job service does when a job finishes. */
  const finish = (job: Job, to: 'succeeded' | 'failed' | 'cancelled', at = NOON): Job => {
    const pending = job.state === 'queued' && to !== 'cancelled' ? transition(job, 'pending') : job;
    const running = pending.state === 'pending' && to !== 'cancelled' ? transition(pending, 'running', { taskId: `t-${job.id}` }) : pending;
    return transition(running, to, { finishedAt: at });
  };

  it('writes a pending ledger line for a job it runs, reserving its credits', async () => {
    const t = await team();
    const job = makeJob({ credits: 8 });
    expect(await t.policy.admit(job)).toEqual({ verdict: 'run' });
    expect(await t.ledger.get(job.id)).toMatchObject({ state: 'pending', credits: 8, createdAt: NOON, channelId: CHANNEL });
  });

  it('does not write anything for a refused job', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { enabled: false });
    expect((await t.policy.admit(makeJob())).verdict).toBe('reject');
    expect(await t.ledger.query()).toHaveLength(0);
  });

  it('two admits racing for the last credits: exactly one runs', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { dailyBudget: 20 });
    await t.policy.admit(makeJob({ credits: 8 })); // 12 left: room for exactly one more fast job
    const decisions = await Promise.all([
      t.policy.admit(makeJob({ credits: 8, userId: ALICE })),
      t.policy.admit(makeJob({ credits: 8, userId: BOB })),
    ]);
    expect(decisions.map((d) => d.verdict).sort()).toEqual(['reject', 'run']);
    const refused = decisions.find((d) => d.verdict === 'reject');
    expect(refused).toEqual({ verdict: 'reject', reason: expect.stringContaining('has 4 of 20 credits left today; a fast job costs 8') });
  });

  it('two admits racing for the last slot: exactly one runs, the other waits', async () => {
    const t = await team();
    await t.settings.set('server', GUILD, { maxConcurrent: 2 });
    await t.policy.admit(makeJob());
    const decisions = await Promise.all([t.policy.admit(makeJob()), t.policy.admit(makeJob())]);
    expect(decisions).toContainEqual({ verdict: 'run' });
    expect(decisions).toContainEqual({ verdict: 'queue', position: 1 });
  });

  it('two admits racing for a user’s last daily job: exactly one runs', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { userDailyJobs: 3, maxConcurrent: 10 });
    await t.policy.admit(makeJob());
    await t.policy.admit(makeJob());
    const decisions = await Promise.all([t.policy.admit(makeJob()), t.policy.admit(makeJob())]);
    expect(decisions.map((d) => d.verdict).sort()).toEqual(['reject', 'run']);
    // Bob has his own allowance, and Alice has hers in another channel.
    expect((await t.policy.admit(makeJob({ userId: BOB }))).verdict).toBe('run');
    expect((await t.policy.admit(makeJob({ channelId: OTHER_CHANNEL }))).verdict).toBe('run');
  });

  it('failed and cancelled jobs give their credits back unless failures are configured to count', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { dailyBudget: 16 });
    const a = makeJob({ credits: 8 });
    const b = makeJob({ credits: 8 });
    await t.policy.admit(a);
    await t.policy.admit(b);
    expect((await t.policy.admit(makeJob({ credits: 8 }))).verdict).toBe('reject');
    await t.policy.record(finish(a, 'failed'));
    const c = makeJob({ credits: 8 });
    expect((await t.policy.admit(c)).verdict).toBe('run');

    await t.settings.set('channel', CHANNEL, { countFailed: true });
    await t.policy.record(finish(c, 'failed'));
    expect((await t.policy.admit(makeJob({ credits: 8 }))).verdict).toBe('reject');
  });

  it('a new UTC day resets the daily budget and user limit; a new month the monthly one', async () => {
    const t = await team(fakeClock(Date.UTC(2025, 2, 31, 23, 59)));
    await t.settings.set('channel', CHANNEL, { dailyBudget: 8, monthlyBudget: 16, userDailyJobs: 1 });
    const j = makeJob({ credits: 8 });
    expect((await t.policy.admit(j)).verdict).toBe('run');
    expect((await t.policy.admit(makeJob({ credits: 8, userId: BOB }))).verdict).toBe('reject'); // daily budget
    t.clock.set(Date.UTC(2025, 3, 1, 0, 1));
    expect((await t.policy.admit(makeJob({ credits: 8 }))).verdict).toBe('run'); // new day and new month
    t.clock.advance(DAY_MS);
    expect((await t.policy.admit(makeJob({ credits: 8 }))).verdict).toBe('run');
    t.clock.advance(DAY_MS);
    const d = await t.policy.admit(makeJob({ credits: 8 }));
    expect(d.verdict === 'reject' && d.reason).toMatch(/has 0 of 16 credits left this month/);
  });

  it('queues over the concurrency limit and releases the oldest first as jobs end', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    const running = makeJob({ id: 'r' });
    const q1 = makeJob({ id: 'q1' });
    const q2 = makeJob({ id: 'q2' });
    expect(await t.policy.admit(running)).toEqual({ verdict: 'run' });
    expect(await t.policy.admit(q1)).toEqual({ verdict: 'queue', position: 1 });
    expect(await t.policy.admit(q2)).toEqual({ verdict: 'queue', position: 2 });
    expect((await t.ledger.get('q1'))?.state).toBe('queued');
    expect((await t.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['q1', 'q2']);

    const started = await t.policy.release(finish(running, 'succeeded'));
    expect(started.map((j) => j.id)).toEqual(['q1']);
    expect(started[0]?.state).toBe('queued'); // the service moves it on
    expect((await t.ledger.get('q1'))?.state).toBe('pending'); // but its slot is already taken
    expect((await t.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['q2']);
    // A newcomer cannot take q1's slot.
    expect(await t.policy.admit(makeJob({ id: 'late' }))).toEqual({ verdict: 'queue', position: 2 });
    // Releasing the same job twice hands out nothing more.
    expect(await t.policy.release(finish(running, 'succeeded'))).toEqual([]);
  });

  it('a queued job cancelled by its author leaves the line and its credits are freed', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1, dailyBudget: 16 });
    const running = makeJob();
    const waiting = makeJob();
    await t.policy.admit(running);
    expect((await t.policy.admit(waiting)).verdict).toBe('queue');
    expect((await t.policy.admit(makeJob())).verdict).toBe('reject'); // the queued job's credits are reserved
    expect(await t.policy.release(finish({ ...waiting, state: 'queued' }, 'cancelled'))).toEqual([]);
    expect(await t.policy.waiting(CHANNEL)).toEqual([]);
    expect((await t.ledger.get(waiting.id))?.state).toBe('cancelled');
    expect((await t.policy.admit(makeJob())).verdict).toBe('queue');
  });

  it('record keeps the queued copy current (e.g. the reply message id)', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    await t.policy.admit(makeJob());
    const waiting = makeJob();
    await t.policy.admit(waiting);
    await t.policy.record({ ...waiting, state: 'queued', origin: { ...waiting.origin, messageId: 'msg-1' } });
    expect((await t.policy.waiting(CHANNEL))[0]?.origin.messageId).toBe('msg-1');
  });

  it('drain starts waiting jobs after the limit is raised; admit hands stragglers to onStartable first', async () => {
    const handed: string[][] = [];
    const t = await team(fakeClock(), { onStartable: (jobs: Job[]) => handed.push(jobs.map((j) => j.id)) });
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    await t.policy.admit(makeJob({ id: 'r' }));
    await t.policy.admit(makeJob({ id: 'w1' }));
    await t.policy.admit(makeJob({ id: 'w2' }));
    await t.policy.admit(makeJob({ id: 'w3' }));
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 2 });
    expect((await t.policy.drain(CHANNEL)).map((j) => j.id)).toEqual(['w1']);
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 5 });
    // A newcomer finds free slots but people waiting: they go first, the newcomer after them.
    expect(await t.policy.admit(makeJob({ id: 'new' }))).toEqual({ verdict: 'run' });
    expect(handed).toEqual([['w2', 'w3']]);
  });

  it('the queue survives a restart: new instances over the same SQLite file pick it up', async () => {
    const db = tempSqlite();
    try {
      const clock = fakeClock();
      const first = await openStore(db.url);
      const before = await openTeam(first, clock);
      await before.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
      const running = makeJob({ id: 'r' });
      await before.policy.admit(running);
      await before.policy.admit(makeJob({ id: 'w1', userId: BOB }));
      await before.policy.admit(makeJob({ id: 'w2' }));
      await first.close();

      const second = await openStore(db.url);
      const after = await openTeam(second, clock);
      expect((await after.policy.waiting(CHANNEL)).map((j) => [j.id, j.origin.userId])).toEqual([
        ['w1', BOB],
        ['w2', ALICE],
      ]);
      expect(await after.policy.resume()).toEqual([]); // r still holds the only slot
      expect((await after.ledger.get('w1'))?.state).toBe('queued');
      const started = await after.policy.release(finish(running, 'succeeded'));
      expect(started.map((j) => j.id)).toEqual(['w1']);
      await second.close();

      // A third start: w1 holds the slot, w2 still waits, in order.
      const third = await openStore(db.url);
      const again = await openTeam(third, clock);
      expect((await again.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['w2']);
      expect((await again.ledger.get('w1'))?.state).toBe('pending');
      await third.close();
    } finally {
      db.cleanup();
    }
  });

  it('resume hands out a job that was marked started but still sat in the queue at a crash', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    const w = makeJob({ id: 'w', state: 'queued' });
    await t.queue.enqueue(w);
    await t.ledger.put({ ...entry({ jobId: 'w', state: 'pending' }) });
    expect((await t.policy.resume()).map((j) => j.id)).toEqual(['w']);
    expect(await t.policy.waiting(CHANNEL)).toEqual([]);
  });

  it('refresh hands freed jobs to onStartable, and does nothing without it', async () => {
    const handed: string[] = [];
    const t = await team(fakeClock(), { onStartable: (jobs: Job[]) => handed.push(...jobs.map((j) => j.id)) });
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    await t.policy.admit(makeJob({ id: 'r' }));
    await t.policy.admit(makeJob({ id: 'w' }));
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 2 });
    await t.policy.refresh();
    expect(handed).toEqual(['w']);

    const bare = await team();
    await bare.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    await bare.policy.admit(makeJob({ id: 'r2' }));
    await bare.policy.admit(makeJob({ id: 'w2' }));
    await bare.settings.set('channel', CHANNEL, { maxConcurrent: 2 });
    await bare.policy.refresh(CHANNEL);
    expect((await bare.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['w2']);
  });

  it('reconcile closes lines of jobs the service never stored, freeing slot and credits', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1, dailyBudget: 16 });
    await t.policy.admit(makeJob({ id: 'ghost' }));
    await t.policy.admit(makeJob({ id: 'ghost-waiting' }));
    const known = makeJob({ id: 'known', channelId: OTHER_CHANNEL });
    await t.policy.admit(known);
    expect(await t.policy.reconcile(async (id) => id === 'known')).toBe(2);
    expect((await t.ledger.get('ghost'))?.state).toBe('failed');
    expect(await t.policy.waiting(CHANNEL)).toEqual([]);
    expect((await t.ledger.get('known'))?.state).toBe('pending');
    expect((await t.policy.admit(makeJob())).verdict).toBe('run');
  });

  it('settle frees the slot of a job that ended without its ledger line being released (max 1 concurrent: the channel was blocked)', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    const done = makeJob({ id: 'done' });
    await t.policy.admit(done);
    const waiting = makeJob({ id: 'waiting' });
    await t.policy.admit(waiting);
    // The crash: the job reached 'succeeded' in the jobs table, the ledger still says pending.
    const finished = finish(done, 'succeeded');
    expect(await t.policy.resume()).toEqual([]); // blocked: the line holds the only slot
    expect(await t.policy.settle(async (id) => (id === 'done' ? finished : { ...waiting, state: 'queued' }))).toBe(1);
    expect((await t.ledger.get('done'))?.state).toBe('succeeded');
    expect((await t.policy.resume()).map((j) => j.id)).toEqual(['waiting']);
  });

  it('settle puts a queued job missing from its line back into it, and closes lines of unknown jobs', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    const running = makeJob({ id: 'running' });
    await t.policy.admit(running);
    const lost = makeJob({ id: 'lost' });
    await t.policy.admit(lost);
    await t.policy.admit(makeJob({ id: 'ghost' }));
    await t.store.team.inChannel(CHANNEL, (tx) => tx.queue.remove(['lost']));
    expect((await t.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['ghost']);
    const jobs: Record<string, Job> = { running: { ...running, state: 'pending' }, lost: { ...lost, state: 'queued' } };
    expect(await t.policy.settle(async (id) => jobs[id])).toBe(2);
    expect((await t.ledger.get('ghost'))?.state).toBe('failed');
    expect((await t.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['lost']);
    expect(await t.policy.settle(async (id) => jobs[id])).toBe(0); // idempotent
    await t.policy.release(finish(running, 'succeeded'));
    expect(await t.policy.waiting(CHANNEL)).toEqual([]);
  });

  it('tells onQueueChanged who still waits after jobs leave the line, and knows positions', async () => {
    const changes: Array<[string, string[]]> = [];
    const t = await team(fakeClock(), { onQueueChanged: (ch: string, jobs: Job[]) => changes.push([ch, jobs.map((j) => j.id)]) });
    await t.settings.set('channel', CHANNEL, { maxConcurrent: 1 });
    const r = makeJob({ id: 'r' });
    await t.policy.admit(r);
    const w1 = makeJob({ id: 'w1' });
    await t.policy.admit(w1);
    await t.policy.admit(makeJob({ id: 'w2' }));
    await t.policy.admit(makeJob({ id: 'w3' }));
    expect(changes).toEqual([]); // joining the line moves nobody
    expect(await t.policy.position(makeJob({ id: 'w3' }))).toBe(3);

    await t.policy.release(finish({ ...makeJob({ id: 'w2' }), state: 'queued' }, 'cancelled'));
    expect(changes).toEqual([[CHANNEL, ['w1', 'w3']]]);
    await t.policy.release(finish(r, 'succeeded'));
    expect(changes.at(-1)).toEqual([CHANNEL, ['w3']]);
    expect(await t.policy.position(w1)).toBeNull();
  });

  it('uses the built-in defaults without any stored settings', async () => {
    const t = await team();
    for (let i = 0; i < DEFAULT_SETTINGS.maxConcurrent; i++) expect((await t.policy.admit(makeJob())).verdict).toBe('run');
    expect((await t.policy.admit(makeJob())).verdict).toBe('queue');
  });
});

describe('findBannedMatch: hidden and look-alike characters', () => {
  it.each([
    ['a zero-width space', 'a nu\u200Bde figure', 'nu\u200Bde'],
    ['a soft hyphen', 'a nu\u00ADde figure', 'nu\u00ADde'],
    ['a Cyrillic у and е', 'gоrе', 'gоrе'],
    ['Greek omicron', 'gοre', 'gοre'],
    ['full-width letters', 'ｇｏｒｅ', 'ｇｏｒｅ'],
    ['a word joiner inside a phrase', 'blood\u2060 bath', 'blood\u2060 bath'],
  ])('sees through %s and reports the text as found', (_what, text, found) => {
    expect(findBannedMatch(['gore', 'nude', 'blood bath'], text)).toMatchObject({ found });
  });

  it('still matches whole words only after normalising', () => {
    expect(findBannedMatch(['gore'], 'folklоre')).toBeNull();
    expect(findBannedMatch(['gore'], 'ångore')).toBeNull();
  });

  it('names the invisible character to the user', () => {
    expect(checkPrompt({ bannedWords: ['nude'] }, 'nu\u200Bde')).toEqual({
      ok: false,
      reason: expect.stringContaining('“nu<U+200B>de” (read as “nude”)'),
    });
  });
});
