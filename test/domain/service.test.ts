import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/domain/errors.js';
import type { Job } from '../../src/domain/job.js';
import type { Admission, AdmissionDecision, BatchDecision } from '../../src/domain/ports.js';
import type { KieApi } from '../../src/providers/kie/api.js';
import { INTERRUPTED_ERROR, type NewJob } from '../../src/domain/service.js';
import { useHarness, type Harness, type HarnessOptions } from '../support/domainHarness.js';
import { newGridJob, storedJob } from '../support/jobFixtures.js';
import { SqlKieKeys } from '../../src/store/sql/kieKeys.js';
import type { OpenedStore } from '../../src/store/store.js';

/** Team policy stand-in: answers with the verdicts it is given (then 'run'), keeps a FIFO, logs every call. */
class FakeAdmission implements Admission {
  readonly log: string[] = [];
  readonly verdicts: AdmissionDecision[] = [];
  readonly queue: Job[] = [];
  /** Jobs whose line holds a slot though they are still queued (taken out of the queue by a process that died). */
  readonly drainedIds = new Set<string>();
  failRecord = false;

  async drained(job: Job): Promise<boolean> {
    return this.drainedIds.has(job.id);
  }

  async admit(job: Job): Promise<AdmissionDecision> {
    this.log.push(`admit:${job.id}`);
    const verdict = this.verdicts.shift() ?? { verdict: 'run' };
    if (verdict.verdict === 'queue') this.queue.push(job);
    return verdict;
  }
  async admitBatch(jobs: readonly Job[]): Promise<BatchDecision> {
    this.log.push(`admitBatch:${jobs.map((j) => j.id).join(',')}`);
    return { verdict: 'admit', decisions: jobs.map(() => ({ verdict: 'run' as const })) };
  }
  async record(job: Job): Promise<void> {
    this.log.push(`record:${job.id}:${job.state}`);
    if (this.failRecord) throw new Error('ledger unavailable');
  }
  async release(job: Job): Promise<Job[]> {
    this.log.push(`release:${job.id}:${job.state}`);
    const i = this.queue.findIndex((q) => q.id === job.id);
    if (i >= 0) this.queue.splice(i, 1);
    return job.state === 'cancelled' ? [] : this.queue.splice(0, 1);
  }
}

/** Delegates to the real client, logging creates and what the store held for the job at that moment. */
function spyKie(log: string[], h: () => Harness): (real: KieApi) => KieApi {
  const storedStates = async () => (await h().repo.listActive()).map((j) => `${j.id}:${j.state}:${j.taskId ?? '-'}`).join(',');
  return (real) => ({
    generate: async (body, opts) => {
      log.push(`create:generate [${await storedStates()}]`);
      return real.generate(body, opts);
    },
    upscale: async (body, opts) => {
      log.push('create:upscale');
      return real.upscale(body, opts);
    },
    vary: async (body, opts) => {
      log.push('create:vary');
      return real.vary(body, opts);
    },
    extendVideo: async (body, opts) => {
      log.push('create:extend');
      return real.extendVideo(body, opts);
    },
    recordInfo: (taskId, opts) => real.recordInfo(taskId, opts),
    credits: (opts) => real.credits(opts),
  });
}

const harnesses = useHarness();
const sqliteUrl = (): string => harnesses.sqliteUrl('tj-service-');

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const h = await harnesses.start(options);
  h.tracker.start();
  return h;
}

describe('JobService.submit', () => {
  it('admits, persists pending before KIE, then running with the taskId, records, tracks — in that order', async () => {
    const admission = new FakeAdmission();
    const hh = await harness({ admission, wrapKie: spyKie(admission.log, () => hh) });
    const result = await hh.service.submit(newGridJob({ id: 'j1' }));

    expect(result.kind).toBe('running');
    const job = result.kind === 'running' ? result.job : undefined;
    expect(job).toMatchObject({ id: 'j1', state: 'running', submittedAt: hh.clock.now(), polls: 0, delivered: false });
    expect(job?.taskId).toBeTruthy();
    expect(admission.log).toEqual(['admit:j1', 'create:generate [j1:pending:-]', 'record:j1:running']);
    expect((await hh.repo.findByTaskId(job!.taskId!))?.id).toBe('j1');
    expect(hh.tracker.dueAt('j1')).toBe(hh.clock.now() + 30_000);

    await hh.clock.advance(60_000);
    expect(await hh.repo.require('j1')).toMatchObject({ state: 'succeeded', delivered: true });
    expect(admission.log.slice(3)).toEqual(['record:j1:succeeded', 'release:j1:succeeded']);
    expect(hh.presenter.deliveriesOf('j1')).toHaveLength(1);
  });

  it('persists nothing and sends nothing when admission rejects', async () => {
    const admission = new FakeAdmission();
    admission.verdicts.push({ verdict: 'reject', reason: 'This channel is over its daily budget.' });
    const hh = await harness({ admission });
    const result = await hh.service.submit(newGridJob({ id: 'j1' }));
    expect(result).toEqual({ kind: 'rejected', reason: 'This channel is over its daily budget.' });
    expect(await hh.repo.get('j1')).toBeUndefined();
    expect(hh.createCount()).toBe(0);
  });

  it.each([
    [{ kind: 'code', code: 402, endpoint: 'create' } as const, '402', /out of credits/],
    [{ kind: 'code', code: 422, msg: 'prompt contains banned words', endpoint: 'create' } as const, '422', /banned words/],
  ])('fails, books and delivers a job KIE refuses (%o)', async (fault, code, message) => {
    const admission = new FakeAdmission();
    const hh = await harness({ admission });
    hh.sim.inject(fault);
    const result = await hh.service.submit(newGridJob({ id: 'j1' }));

    expect(result.kind).toBe('failed');
    const job = await hh.repo.require('j1');
    expect(job).toMatchObject({ state: 'failed', taskId: null, delivered: true, error: { code } });
    expect(job.error?.message).toMatch(message);
    expect(job.error?.message).not.toContain('test-key');
    expect(admission.log).toEqual(['admit:j1', 'record:j1:failed', 'release:j1:failed']);
    expect(hh.presenter.deliveriesOf('j1')).toHaveLength(1);
    expect(hh.presenter.deliveriesOf('j1')[0]?.state).toBe('failed');
    expect(await hh.repo.listActive()).toEqual([]);
  });

  it.each([
    [{ kind: 'html', status: 502, endpoint: 'create' } as const, /could not read/],
    [{ kind: 'reset', endpoint: 'create' } as const, /broke off/],
    [{ kind: 'lostAnswer', endpoint: 'create' } as const, /broke off/],
    [{ kind: 'http', status: 500, endpoint: 'create' } as const, /./],
  ])('marks a create whose answer was lost (%o) as outcome unknown: booked, delivered, not failed', async (fault, message) => {
    const admission = new FakeAdmission();
    const hh = await harness({ admission });
    hh.sim.inject(fault);
    const result = await hh.service.submit(newGridJob({ id: 'j1' }));

    expect(result.kind).toBe('unknown');
    const job = await hh.repo.require('j1');
    expect(job).toMatchObject({ state: 'unknown', taskId: null, delivered: true, error: { code: 'outcome_unknown' } });
    expect(job.error?.message).toMatch(message);
    expect(admission.log).toEqual(['admit:j1', 'record:j1:unknown', 'release:j1:unknown']);
    expect(hh.presenter.deliveriesOf('j1')[0]?.state).toBe('unknown');
  });

  it('retries delivering a refused job’s failure when Discord fails', async () => {
    const hh = await harness();
    hh.sim.inject({ kind: 'code', code: 402, endpoint: 'create' });
    hh.presenter.failNextDeliveries(1);
    const result = await hh.service.submit(newGridJob({ id: 'j1' }));
    expect(result.kind === 'failed' && result.job.delivered).toBe(false);
    await hh.clock.advance(30_000);
    expect(await hh.repo.require('j1')).toMatchObject({ state: 'failed', delivered: true });
    expect(hh.presenter.deliveriesOf('j1')).toHaveLength(1);
  });

  it('keeps going when the ledger fails', async () => {
    const admission = new FakeAdmission();
    admission.failRecord = true;
    const hh = await harness({ admission });
    const result = await hh.service.submit(newGridJob({ id: 'j1' }));
    expect(result.kind).toBe('running');
    await hh.clock.advance(60_000);
    expect((await hh.repo.require('j1')).delivered).toBe(true);
  });

  it('sends each kind of request to its endpoint', async () => {
    const log: string[] = [];
    const hh = await harness({ wrapKie: spyKie(log, () => hh) });
    const grid = await hh.service.submit(newGridJob({ id: 'grid' }));
    await hh.clock.advance(60_000);
    const gridTask = grid.kind === 'running' ? grid.job.taskId! : '';

    const upscale = await hh.service.submit(
      newGridJob({ id: 'up', kind: 'upscale', request: { op: 'upscale', body: { taskId: gridTask, imageIndex: 0 } } }),
    );
    const vary = await hh.service.submit(
      newGridJob({ id: 'va', kind: 'vary', request: { op: 'vary', body: { taskId: gridTask, imageIndex: 4 } } }),
    );
    const video = await hh.service.submit(
      newGridJob({
        id: 'vid',
        kind: 'video',
        speed: null,
        request: { op: 'generate', body: { taskType: 'mj_video', prompt: 'waves', fileUrls: [`${hh.sim.url}/x.png`], motion: 'low' } },
      }),
    );
    await hh.clock.advance(120_000);
    const videoTask = video.kind === 'running' ? video.job.taskId! : '';
    const extend = await hh.service.submit(
      newGridJob({
        id: 'ext',
        kind: 'extend',
        speed: null,
        request: { op: 'extend', body: { taskType: 'mj_video_extend_auto', taskId: videoTask, index: 0 } },
      }),
    );

    expect([upscale.kind, vary.kind, video.kind, extend.kind]).toEqual(['running', 'running', 'running', 'running']);
    expect(log.map((l) => l.split(' ')[0])).toEqual(['create:generate', 'create:upscale', 'create:vary', 'create:generate', 'create:extend']);
    await hh.clock.advance(300_000);
    const videoJob = await hh.repo.require('vid');
    expect(videoJob.results.length).toBeGreaterThan(0);
    expect(videoJob.results.every((r) => r.kind === 'video')).toBe(true);
    expect((await hh.repo.require('ext')).delivered).toBe(true);
  });
});

describe('the queue hook', () => {
  it('queues a job (persisted, shown), then starts it when the running one ends', async () => {
    const admission = new FakeAdmission();
    admission.verdicts.push({ verdict: 'run' }, { verdict: 'queue', position: 1 });
    const hh = await harness({ admission });
    const first = await hh.service.submit(newGridJob({ id: 'first' }));
    const second = await hh.service.submit(newGridJob({ id: 'second' }));

    expect(first.kind).toBe('running');
    expect(second).toMatchObject({ kind: 'queued', position: 1, job: { id: 'second', state: 'queued' } });
    expect(await hh.repo.require('second')).toMatchObject({ state: 'queued', taskId: null, origin: { messageId: 'msg-second' } });
    expect(hh.presenter.progressCalls.map((j) => `${j.id}:${j.state}`)).toEqual(['second:queued']);
    expect(hh.createCount()).toBe(1);

    await hh.clock.advance(46_000); // the first finishes (checked at 46.8 s at the latest)
    await hh.clock.advance(1_000);
    expect(await hh.repo.require('first')).toMatchObject({ state: 'succeeded', delivered: true });
    const started = await hh.repo.require('second');
    expect(started.state).toBe('running');
    expect(started.taskId).toBeTruthy();
    expect(hh.createCount()).toBe(2);
    expect(hh.presenter.progressCalls.map((j) => `${j.id}:${j.state}`)).toContain('second:running');
    expect(admission.log).toContain('record:second:running');

    await hh.clock.advance(60_000);
    expect(await hh.repo.require('second')).toMatchObject({ state: 'succeeded', delivered: true });
  });

  it('lets only the author cancel a queued job, frees nothing else, and never starts it', async () => {
    const admission = new FakeAdmission();
    admission.verdicts.push({ verdict: 'run' }, { verdict: 'queue', position: 1 });
    const hh = await harness({ admission });
    await hh.service.submit(newGridJob({ id: 'first' }));
    await hh.service.submit(newGridJob({ id: 'second' }));

    await expect(hh.service.cancel('second', 'someone-else')).rejects.toBeInstanceOf(UserError);
    await expect(hh.service.cancel('first', 'u1')).rejects.toThrow(/already started/);
    await expect(hh.service.cancel('nope', 'u1')).rejects.toThrow(/no longer exists/);

    const cancelled = await hh.service.cancel('second', 'u1');
    expect(cancelled).toMatchObject({ state: 'cancelled', delivered: true });
    expect(admission.log).toContain('release:second:cancelled');
    await expect(hh.service.cancel('second', 'u1')).rejects.toThrow(/already cancelled/);
    expect(await hh.service.startQueued(cancelled)).toBeNull();

    await hh.clock.advance(120_000);
    expect(hh.createCount()).toBe(1);
    expect(await hh.repo.listActive()).toEqual([]);
  });
});

describe('JobService.resume after a restart', () => {
  it('fails a pending job without a taskId whose create was sent as interrupted and never re-sends it', async () => {
    const admission = new FakeAdmission();
    const hh = await harness({ storeUrl: sqliteUrl(), admission });
    // As if the bot died between sending the create and KIE's answer (the mark says it left).
    await hh.repo.create(storedJob({ id: 'p1', state: 'pending', taskId: null, submittedAt: null, createSentAt: 1 }));
    await hh.restart();

    const summary = await hh.service.resume();
    hh.tracker.start();
    await hh.clock.advance(60_000);

    expect(summary).toEqual({ polling: 0, interrupted: 1, redelivering: 0, queued: 0 });
    expect(await hh.repo.require('p1')).toMatchObject({ state: 'failed', delivered: true, error: INTERRUPTED_ERROR });
    expect(hh.createCount()).toBe(0);
    expect(hh.presenter.deliveriesOf('p1')).toHaveLength(1);
    expect(admission.log).toEqual(['record:p1:failed', 'release:p1:failed']);
  });

  it('sends, once, a pending job whose create never left (it was waiting for a create slot)', async () => {
    const admission = new FakeAdmission();
    const hh = await harness({ storeUrl: sqliteUrl(), admission });
    // As if the bot died while the job waited in the create limiter: no taskId, no create-sent mark.
    await hh.repo.create(storedJob({ id: 'p1', state: 'pending', taskId: null, submittedAt: null }));
    await hh.restart();

    const [first, second] = await Promise.all([hh.service.resume(), hh.service.resume()]);
    hh.tracker.start();
    await hh.clock.advance(60_000);

    expect(first.interrupted + second.interrupted).toBe(0);
    expect(hh.createCount()).toBe(1);
    const job = await hh.repo.require('p1');
    expect(job).toMatchObject({ state: 'succeeded', delivered: true });
    expect(job.createSentAt).toEqual(expect.any(Number));
    expect(hh.presenter.deliveriesOf('p1')).toHaveLength(1);
  });

  it('writes the create-sent mark before the provider sees the request', async () => {
    const seen: string[] = [];
    let h!: Harness;
    const hh = await harness({
      wrapKie: (real) => ({
        ...real,
        generate: (body, opts) =>
          real.generate(body, {
            ...opts,
            onSending: async () => {
              await opts!.onSending!();
              const job = await h.repo.require('m1');
              seen.push(`marked:${job.createSentAt !== undefined} creates:${h.createCount()}`);
            },
          }),
        recordInfo: (taskId, opts) => real.recordInfo(taskId, opts),
        credits: (opts) => real.credits(opts),
      }),
    });
    h = hh;
    const result = await hh.service.submit(newGridJob({ id: 'm1' }));
    expect(result.kind).toBe('running');
    expect(seen).toEqual(['marked:true creates:0']);
    expect(hh.createCount()).toBe(1);
  });

  it('follows running jobs persisted mid-flight and delivers each exactly once', async () => {
    const hh = await harness({ storeUrl: sqliteUrl() });
    const submitted: NewJob[] = [newGridJob({ id: 'a' }), newGridJob({ id: 'b', speed: 'turbo' })];
    for (const d of submitted) await hh.service.submit(d);
    await hh.clock.advance(35_000); // 'a' polled, 'b' still running too (45 s tasks)
    expect((await hh.repo.require('a')).polls).toBeGreaterThan(0);
    const createsBefore = hh.createCount();

    await hh.restart();
    await hh.clock.advance(30_000); // down while both finish at KIE
    const summary = await hh.service.resume();
    hh.tracker.start();
    await hh.clock.advance(60_000);

    expect(summary.polling).toBe(2);
    for (const id of ['a', 'b']) {
      expect(await hh.repo.require(id)).toMatchObject({ state: 'succeeded', delivered: true });
      expect(hh.presenter.deliveriesOf(id)).toHaveLength(1);
    }
    expect(hh.createCount()).toBe(createsBefore);
    expect(await hh.repo.listActive()).toEqual([]);
  });

  it('delivers again a finished job whose delivery was lost, and leaves queued jobs to admission', async () => {
    const hh = await harness({ storeUrl: sqliteUrl() });
    hh.presenter.failNextDeliveries(1);
    await hh.service.submit(newGridJob({ id: 'a' }));
    await hh.repo.create(storedJob({ id: 'q', state: 'queued', taskId: null }));
    await hh.clock.advance(47_000);
    expect(await hh.repo.require('a')).toMatchObject({ state: 'succeeded', delivered: false });

    await hh.restart(); // before the delivery retry
    const summary = await hh.service.resume();
    hh.tracker.start();
    await hh.clock.advance(1_000);

    expect(summary).toEqual({ polling: 0, interrupted: 0, redelivering: 1, queued: 1 });
    expect(await hh.repo.require('a')).toMatchObject({ state: 'succeeded', delivered: true });
    expect(hh.presenter.deliveriesOf('a')).toHaveLength(1);
    expect(await hh.repo.require('q')).toMatchObject({ state: 'queued' });
    await hh.clock.advance(120_000);
    expect(hh.presenter.deliveriesOf('a')).toHaveLength(1);
  });

  it('starts a queued job that was taken out of its queue by a process that died before starting it — once, even if a live starter races it', async () => {
    const admission = new FakeAdmission();
    const hh = await harness({ storeUrl: sqliteUrl(), admission });
    await hh.repo.create(storedJob({ id: 'q', state: 'queued', taskId: null, submittedAt: null }));
    admission.drainedIds.add('q');
    await hh.restart();

    // The resume (a takeover) and a live process's own start of the same job, at once.
    const [summary] = await Promise.all([hh.service.resume(), hh.service.startQueued((await hh.repo.require('q')))]);
    hh.tracker.start();
    await hh.clock.advance(120_000);

    expect(summary.queued).toBe(0);
    expect(hh.createCount()).toBe(1);
    expect(await hh.repo.require('q')).toMatchObject({ state: 'succeeded', delivered: true });
    expect(hh.presenter.deliveriesOf('q')).toHaveLength(1);
  });
});

describe('JobService with several provider accounts (KIE keys)', () => {
  const accountsOf = (h: Harness, endpoint: string): (string | undefined)[] =>
    h.sim.requests.filter((r) => r.endpoint === endpoint).map((r) => r.account);

  it('chooses the least busy account before the create, records it on the job, and polls with it', async () => {
    const h = await harness({ kieAccounts: { a: 1000, b: 1000 } });
    const first = await h.service.submit(newGridJob({ id: 'j1' }));
    const second = await h.service.submit(newGridJob({ id: 'j2' }));
    expect(accountsOf(h, 'generate')).toEqual(['a', 'b']);
    expect(first.kind === 'running' && first.job.account).toBe('a');
    expect((await h.repo.get('j2'))?.account).toBe('b');
    expect(second.kind).toBe('running');
    await h.clock.advance(60_000);
    const polls = h.sim.requests.filter((r) => r.endpoint === 'recordInfo');
    expect(polls.length).toBeGreaterThan(0);
    // Each task is read with the key that made it (another key would get "Record does not exist").
    for (const r of polls) expect(r.account).toBe(r.query['taskId'] === (await h.repo.get('j1'))?.taskId ? 'a' : 'b');
  });

  it('a job that must use an account out of rotation is refused at admission: nothing stored, nothing sent', async () => {
    const admission = new FakeAdmission();
    const h = await harness({ kieAccounts: { a: 1000, b: 1000 }, admission });
    await new SqlKieKeys((h.store as OpenedStore).sql).takeOut('a', 'the account has no credits left (402)', h.clock.now());
    const result = await h.service.submit(newGridJob({ id: 'pinned', account: 'a' }));
    expect(result).toEqual({ kind: 'rejected', reason: expect.stringContaining('The KIE key "a" this needs is out of rotation') });
    expect(admission.log).toEqual([]);
    expect(h.createCount()).toBe(0);
    // Unpinned jobs still go, to b.
    expect((await h.service.submit(newGridJob({ id: 'free' }))).kind).toBe('running');
    expect(accountsOf(h, 'generate')).toEqual(['b']);
  });

  it('a follow-up of a job from before there were several accounts uses the first one, however busy', async () => {
    const h = await harness({ kieAccounts: { a: 1000, b: 1000 } });
    await h.service.submit(newGridJob({ id: 'busy' }));
    await h.service.submit(newGridJob({ id: 'reroll', parent: { jobId: 'old', position: 0, action: 'reroll' } }));
    expect(accountsOf(h, 'generate')).toEqual(['a', 'a']);
  });

  it('a freely chosen account that answers 402 is left for the next one; a pinned job fails instead', async () => {
    const h = await harness({ kieAccounts: { a: 1000, b: 1000 } });
    h.sim.setCredits(2, 'a');
    const moved = await h.service.submit(newGridJob({ id: 'free' }));
    expect(moved.kind === 'running' && moved.job.account).toBe('b');
    expect(accountsOf(h, 'generate')).toEqual(['a', 'b']);
    h.sim.setCredits(2, 'b');
    const pinned = await h.service.submit(newGridJob({ id: 'pinned', account: 'b' }));
    expect(pinned.kind).toBe('failed');
    expect(accountsOf(h, 'generate')).toEqual(['a', 'b', 'b']);
  });
});
