import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/domain/job.js';
import { describeError, parseKieTime, type DomainLogger } from '../../src/domain/tracker.js';
import type { Speed } from '../../src/providers/kie/schemas.js';
import { useHarness, type Harness } from '../support/domainHarness.js';
import { storedJob } from '../support/jobFixtures.js';

const { start: harness, sqliteUrl } = useHarness();

/** A task created at the local KIE server and the running job that follows it (as the service would store it). */
async function runningJob(hh: Harness, overrides: Partial<Job> = {}, speed: Speed = 'fast'): Promise<Job> {
  const { taskId } = await hh.kie.generate({ taskType: 'mj_txt2img', prompt: 'a red fox', speed });
  const job = storedJob({ taskId, speed, submittedAt: hh.clock.now(), createdAt: hh.clock.now(), ...overrides });
  await hh.repo.create(job);
  return job;
}

describe('Tracker against the local KIE server', () => {
  it('checks a 45 s fast job first at the earliest plausible finish, a handful of times, and delivers it once', async () => {
    const hh = await harness();
    const job = await runningJob(hh);
    const t0 = hh.clock.now();
    hh.tracker.track(job);
    hh.tracker.start();

    await hh.clock.advance(29_999);
    expect(hh.recordInfoTimes()).toEqual([]);

    await hh.clock.advance(60_000);
    const times = hh.recordInfoTimes(job.taskId!).map((t) => t - t0);
    expect(times[0]).toBe(30_000);
    expect(times.length).toBeLessThanOrEqual(8);
    expect(times.at(-1)).toBeGreaterThanOrEqual(45_000);

    const stored = await hh.repo.require(job.id);
    expect(stored).toMatchObject({ state: 'succeeded', delivered: true, polls: times.length });
    expect(stored.results).toHaveLength(4);
    expect(stored.results.every((r) => r.kind === 'image' && r.url.startsWith(hh.sim.url))).toBe(true);
    expect(stored.kieCompletedAt).toBe(t0 + 45_000);
    expect(stored.results[0]?.attachmentId).toBe(`att-${job.id}-0`); // what the presenter returned is kept
    expect(hh.presenter.deliveriesOf(job.id)).toHaveLength(1);

    expect(hh.finished).toHaveLength(1);
    const lag = hh.finished[0]!.deliveredAt - hh.finished[0]!.kieCompletedAt!;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(3_000);
    expect(hh.tracker.stats()).toEqual({ tracked: 0, scheduled: 0, polling: 0, delivering: 0 });
    expect(hh.clock.pending).toBe(0);
  });

  it.each([2, 3] as const)('delivers a KIE failure (successFlag %i) with KIE’s reason', async (successFlag) => {
    const hh = await harness();
    hh.sim.inject({ kind: 'taskFailure', successFlag, errorCode: 501, errorMessage: 'Banned prompt detected' });
    const job = await runningJob(hh);
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(60_000);

    const stored = await hh.repo.require(job.id);
    expect(stored).toMatchObject({ state: 'failed', delivered: true, error: { code: '501', message: 'Banned prompt detected' } });
    expect(hh.presenter.deliveriesOf(job.id)).toHaveLength(1);
    expect(hh.presenter.deliveriesOf(job.id)[0]?.state).toBe('failed');
  });

  it('backs off exponentially on 5xx answers and recovers', async () => {
    const hh = await harness();
    const job = await runningJob(hh);
    const t0 = hh.clock.now();
    hh.sim.inject({ kind: 'http', status: 500, endpoint: 'recordInfo', times: 4 });
    hh.sim.inject({ kind: 'html', status: 502, endpoint: 'recordInfo', times: 1 });
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(120_000);

    const times = hh.recordInfoTimes(job.taskId!).map((t) => t - t0);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // random() = 0.5 → equal jitter gives 0.75 × (2, 4, 8, 16, 32 s), never under the 2.8 s dense gap.
    expect(gaps.slice(0, 5)).toEqual([2_800, 3_000, 6_000, 12_000, 24_000]);
    const stored = await hh.repo.require(job.id);
    expect(stored).toMatchObject({ state: 'succeeded', delivered: true });
    expect(stored.polls).toBe(times.length);
  });

  it('fails a job KIE has no record of, without polling it again', async () => {
    const hh = await harness();
    const job = await runningJob(hh);
    hh.sim.forget(job.taskId!);
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(120_000);

    expect(hh.recordInfoTimes(job.taskId!)).toHaveLength(1);
    const stored = await hh.repo.require(job.id);
    expect(stored.state).toBe('failed');
    expect(stored.error?.code).toBe('422');
    expect(stored.error?.message).toMatch(/Record does not exist/);
    expect(hh.presenter.deliveriesOf(job.id)).toHaveLength(1);
  });

  it('gives up at the timeout with a clear message and stops polling', async () => {
    const hh = await harness({ durationMs: () => 3 * 3_600_000 });
    const job = await runningJob(hh, {}, 'turbo');
    const t0 = hh.clock.now();
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(15 * 60_000);

    const stored = await hh.repo.require(job.id);
    expect(stored.state).toBe('failed');
    expect(stored.error?.code).toBe('timeout');
    expect(stored.error?.message).toMatch(/10 minutes/);
    expect(stored.finishedAt).toBe(t0 + 10 * 60_000);
    const times = hh.recordInfoTimes(job.taskId!);
    expect(times.at(-1)! - t0).toBe(10 * 60_000);
    expect(hh.presenter.deliveriesOf(job.id)).toHaveLength(1);
  });

  it('retries a failed delivery with back-off until it sticks, showing it exactly once', async () => {
    const hh = await harness();
    hh.presenter.failNextDeliveries(2);
    const job = await runningJob(hh);
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(47_000); // checks at 30, 32.8 … 46.8 s: found done at 46.8 s

    const between = await hh.repo.require(job.id);
    expect(between).toMatchObject({ state: 'succeeded', delivered: false });
    expect(hh.presenter.deliverCalls).toHaveLength(1);

    await hh.clock.advance(60_000);
    expect(hh.presenter.deliverCalls).toHaveLength(3);
    expect(hh.presenter.deliveriesOf(job.id)).toHaveLength(1);
    expect((await hh.repo.require(job.id)).delivered).toBe(true);
    expect(hh.recordInfoTimes(job.taskId!).length).toBeLessThanOrEqual(8); // no re-polling while delivering
  });

  it('polls at once when told the task changed (a callback), before its first scheduled check', async () => {
    const hh = await harness();
    const job = await runningJob(hh);
    const t0 = hh.clock.now();
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(12_000);
    hh.sim.finish(job.taskId!);
    hh.tracker.pollSoon(job.id);
    await hh.clock.advance(0);

    expect(hh.recordInfoTimes(job.taskId!).map((t) => t - t0)).toEqual([12_000]);
    expect((await hh.repo.require(job.id)).delivered).toBe(true);
    hh.tracker.pollSoon('unknown-job'); // harmless
  });

  it('polls again right after the poll in flight when told the task changed meanwhile', async () => {
    const hh = await harness();
    const job = await runningJob(hh, { polls: 1 }); // due at once
    const t0 = hh.clock.now();
    hh.tracker.track(job);
    hh.tracker.start(); // the poll is now in flight
    hh.tracker.pollSoon(job.id);
    await hh.clock.advance(0);
    expect(hh.recordInfoTimes(job.taskId!).map((t) => t - t0)).toEqual([0, 0]);
    expect(hh.tracker.dueAt(job.id)).toBeGreaterThan(t0); // and back on the schedule
  });

  it('spends at most the per-second budget when 100 jobs are due at once, in order', async () => {
    const hh = await harness({ tracker: { maxPollsPerSecond: 8 } });
    const jobs: Job[] = [];
    for (let i = 0; i < 100; i++) jobs.push(await runningJob(hh, { polls: 1 })); // polled before: due at once
    const t0 = hh.clock.now();
    for (const job of jobs) hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(20_000);

    const times = hh.recordInfoTimes();
    expect(times.length).toBeGreaterThanOrEqual(100);
    for (const t of times) {
      expect(times.filter((u) => u >= t && u < t + 1_000).length).toBeLessThanOrEqual(8);
    }
    // The first 100 checks are one per job, in the order they were tracked.
    const firstRound = hh.sim.requests.filter((r) => r.endpoint === 'recordInfo').slice(0, 100);
    expect(firstRound.map((r) => r.query['taskId'])).toEqual(jobs.map((j) => j.taskId));
    expect(firstRound.at(-1)!.at - t0).toBeGreaterThanOrEqual(12_000);
    expect(hh.clock.pending).toBeLessThanOrEqual(1); // one timer, whatever the number of jobs
  });

  it('applies the poll budget per pollBudgetWindowMs (a time-scaled run keeps the same shape)', async () => {
    const hh = await harness({ tracker: { maxPollsPerSecond: 8, pollBudgetWindowMs: 250 } });
    const jobs: Job[] = [];
    for (let i = 0; i < 40; i++) jobs.push(await runningJob(hh, { polls: 1 }));
    for (const job of jobs) hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(5_000);

    const times = hh.recordInfoTimes();
    expect(times.length).toBeGreaterThanOrEqual(40);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 250).length).toBeLessThanOrEqual(8);
    // 40 checks at 8 per 250 ms take about 1.25 s, not the 5 s a 1 s window would need.
    const firstRound = hh.sim.requests.filter((r) => r.endpoint === 'recordInfo').slice(0, 40);
    expect(firstRound.at(-1)!.at - firstRound[0]!.at).toBeLessThan(1_500);
  });

  it('throttles progress edits per job (≥ 5 s apart) and per channel (≤ 5 per 5 s)', async () => {
    const hh = await harness({ durationMs: () => 200_000 });
    const jobs: Job[] = [];
    for (let i = 0; i < 10; i++) jobs.push(await runningJob(hh, {}, 'relaxed'));
    for (const job of jobs) hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(150_000);

    const calls = hh.presenter.progressCalls;
    expect(calls.length).toBeGreaterThan(0);
    const at = (j: Job) => j.polls; // each progress call is made right after a counted poll
    for (const job of jobs) {
      const mine = calls.filter((c) => c.id === job.id);
      expect(mine.length).toBeGreaterThan(0);
      expect(new Set(mine.map(at)).size).toBe(mine.length);
    }
    // Reconstruct when each edit happened from the simulator's request log: the poll that preceded it.
    const editTimes: number[] = [];
    for (const c of calls) {
      const t = hh.recordInfoTimes(c.taskId!)[c.polls - 1];
      expect(t).toBeDefined();
      editTimes.push(t!);
    }
    for (const job of jobs) {
      const mine = calls.filter((c) => c.id === job.id).map((c) => hh.recordInfoTimes(job.taskId!)[c.polls - 1]!);
      mine.slice(1).forEach((t, i) => expect(t - mine[i]!).toBeGreaterThanOrEqual(5_000));
    }
    for (const t of editTimes) {
      expect(editTimes.filter((u) => u >= t && u < t + 5_000).length).toBeLessThanOrEqual(5);
    }
    // The job's message id, learned by the first progress edit, was persisted.
    expect((await hh.repo.require(jobs[0]!.id)).origin.messageId).toBe(`msg-${jobs[0]!.id}`);
  });

  it('keeps polling when progress edits fail', async () => {
    const hh = await harness();
    hh.presenter.failNextProgress(3);
    const job = await runningJob(hh);
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(60_000);
    expect((await hh.repo.require(job.id)).delivered).toBe(true);
  });

  it('stop() clears the timer and waits for polls in flight; start() picks up again', async () => {
    const hh = await harness();
    const job = await runningJob(hh);
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(31_000);
    await hh.tracker.stop();
    expect(hh.clock.pending).toBe(0);
    const before = hh.recordInfoTimes().length;
    await hh.clock.advance(60_000);
    expect(hh.recordInfoTimes()).toHaveLength(before);
    hh.tracker.start();
    await hh.clock.advance(1);
    expect((await hh.repo.require(job.id)).delivered).toBe(true);
  });

  it('untrack() drops a job', async () => {
    const hh = await harness();
    const job = await runningJob(hh);
    hh.tracker.track(job);
    hh.tracker.start();
    hh.tracker.untrack(job.id);
    await hh.clock.advance(120_000);
    expect(hh.recordInfoTimes()).toEqual([]);
  });

  it('picks a job up after a restart over the same SQLite file and delivers it exactly once', async () => {
    const hh = await harness({ storeUrl: sqliteUrl('tj-tracker-') });
    const job = await runningJob(hh);
    const t0 = hh.clock.now();
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(36_000); // polled a few times, still running

    const midway = await hh.repo.require(job.id);
    expect(midway).toMatchObject({ state: 'running' });
    expect(midway.polls).toBeGreaterThan(0);

    await hh.restart();
    await hh.clock.advance(20_000); // the bot is down while KIE finishes
    for (const j of await hh.repo.listActive()) hh.tracker.track(j);
    hh.tracker.start();
    await hh.clock.advance(0);

    const times = hh.recordInfoTimes(job.taskId!).map((t) => t - t0);
    expect(times.at(-1)).toBe(56_000); // checked at once on start, not on a stale schedule
    expect(await hh.repo.require(job.id)).toMatchObject({ state: 'succeeded', delivered: true });
    expect(hh.presenter.deliveriesOf(job.id)).toHaveLength(1);
    expect(await hh.repo.listActive()).toEqual([]);
  });
});

describe('logging', () => {
  it('never logs the interaction token, even when the presenter quotes it', async () => {
    const lines: string[] = [];
    const record = (obj: Record<string, unknown>, msg: string) => lines.push(`${msg} ${JSON.stringify(obj)}`);
    const logger: DomainLogger = { debug: record, info: record, warn: record, error: record };
    const hh = await harness({ tracker: { logger } });
    const job = await runningJob(hh);
    const token = job.origin.interactionToken!;
    hh.presenter.deliver = async () => {
      throw new Error(`PATCH https://discord.com/api/v10/webhooks/123/${token}/messages/@original failed; token=${token}`);
    };
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(60_000);
    expect(lines.some((l) => l.includes('delivery failed'))).toBe(true);
    expect(lines.join('\n')).not.toContain(token);
  });

  it.each([
    [new Error('at /webhooks/42/abc.DEF-123/messages/1'), [], 'Error: at /webhooks/42/***/messages/1'],
    [new Error('Authorization: Bearer sk-123 rejected'), [], 'Error: Authorization: Bearer *** rejected'],
    [new Error('token tok-9 expired'), ['tok-9', null], 'Error: token *** expired'],
    ['plain', [], 'plain'],
  ] as const)('describeError(%s)', (error, secrets, expected) => {
    expect(describeError(error, secrets)).toBe(expected);
  });
});

describe('parseKieTime', () => {
  it.each<[string | null, number | null]>([
    ['2024-03-20T10:30:00Z', Date.UTC(2024, 2, 20, 10, 30)],
    ['1710930600000', Date.UTC(2024, 2, 20, 10, 30)],
    ['1710930600', Date.UTC(2024, 2, 20, 10, 30)],
    ['', null],
    [null, null],
    ['soon', null],
  ])('%s → %s', (input, expected) => {
    expect(parseKieTime(input)).toBe(expected);
  });
});
