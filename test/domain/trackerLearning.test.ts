/**
 * The tracker with learned timings (issue 11): the schedule follows what KIE
 * really takes, and when the poll budget cannot cover every due job, the
 * likeliest-finished go first without starving anyone.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryDurationStore, LearnedTimings, ProviderTimings } from '../../src/domain/durations.js';
import type { Job } from '../../src/domain/job.js';
import type { TrackerOptions } from '../../src/domain/tracker.js';
import type { Speed } from '../../src/providers/kie/schemas.js';
import { useHarness, type Harness } from '../support/domainHarness.js';
import { ManualClock } from '../support/manualClock.js';
import { storedJob } from '../support/jobFixtures.js';

const { start: harness } = useHarness();

async function runningJob(hh: Harness, overrides: Partial<Job> = {}, speed: Speed = 'fast'): Promise<Job> {
  const { taskId } = await hh.kie.generate({ taskType: 'mj_txt2img', prompt: 'a red fox', speed });
  const job = storedJob({ taskId, speed, submittedAt: hh.clock.now(), createdAt: hh.clock.now(), ...overrides });
  await hh.repo.create(job);
  return job;
}

/** Track one job to delivery; returns its first check (ms after submission) and its lag. */
async function runOne(hh: Harness): Promise<{ firstCheck: number; lag: number }> {
  const job = await runningJob(hh);
  const t0 = hh.clock.now();
  hh.tracker.track(job);
  await hh.clock.advanceUntil(() => hh.finished.some((f) => f.jobId === job.id), 300_000, 500);
  const f = hh.finished.find((x) => x.jobId === job.id)!;
  return { firstCheck: hh.recordInfoTimes(job.taskId!)[0]! - t0, lag: f.deliveredAt - f.kieCompletedAt! };
}

describe('Tracker with learned timings', () => {
  it('starts from the notes, then learns that KIE is faster: silent period and lag shrink', async () => {
    const store = new InMemoryDurationStore();
    // Its clock only paces store refreshes.
    const timings = new LearnedTimings({ clock: new ManualClock(), store });
    const hh2 = await harness({ durationMs: () => 12_000, tracker: { timings } });
    hh2.tracker.start();

    const first = await runOne(hh2);
    expect(first.firstCheck).toBe(30_000); // the notes' earliest fast finish
    expect(first.lag).toBeGreaterThanOrEqual(17_000);
    for (let i = 0; i < 10; i++) await runOne(hh2);
    const later = await runOne(hh2);
    expect(later.firstCheck).toBeLessThanOrEqual(12_000);
    expect(later.lag).toBeLessThan(3_000);
    // Persisted through the port, real-equivalent ms from KIE's completeTime.
    expect((await store.recent('grid', 'fast', 100)).slice(0, 3)).toEqual([12_000, 12_000, 12_000]);
    expect(timings.describe()[0]).toMatch(/^fast grids: median 12 s, .* from 12 recent jobs$/);
  });

  it('records durations in real-equivalent ms when the schedule is time-scaled', async () => {
    const store = new InMemoryDurationStore();
    const timings = new LearnedTimings({ clock: new ManualClock(), store });
    const hh2 = await harness({ durationMs: () => 2_000, tracker: { schedule: { timeScale: 0.1 }, timings } });
    hh2.tracker.start();
    await runOne(hh2);
    expect(await store.recent('grid', 'fast', 1)).toEqual([20_000]);
  });

  it("with timings per provider, a KIE job teaches KIE's and no other's", async () => {
    const stores = { kie: new InMemoryDurationStore(), apixo: new InMemoryDurationStore() } as Record<string, InMemoryDurationStore>;
    const byProvider = new ProviderTimings((provider) => new LearnedTimings({ clock: new ManualClock(), store: stores[provider]! }), ['kie', 'apixo']);
    const hh = await harness({ durationMs: () => 12_000, tracker: { timings: byProvider } });
    hh.tracker.start();
    for (let i = 0; i < 11; i++) await runOne(hh);
    expect((await runOne(hh)).firstCheck).toBeLessThanOrEqual(12_000);
    expect(await stores.kie!.recent('grid', 'fast', 100)).toHaveLength(12);
    expect(await stores.apixo!.recent('grid', 'fast', 100)).toEqual([]);
    expect(byProvider.describe('kie', ['grid'])[0]).toMatch(/^fast grids: median 12 s/);
    expect(byProvider.describe('apixo')).toEqual([]);
    expect(byProvider.describeAll()[0]).toMatch(/^kie fast grids: median 12 s/);
  });

  it('without timings keeps the notes’ windows whatever KIE does (the old schedule)', async () => {
    const hh = await harness({ durationMs: () => 12_000 });
    hh.tracker.start();
    for (let i = 0; i < 11; i++) await runOne(hh);
    expect((await runOne(hh)).firstCheck).toBe(30_000);
  });
});

describe('Tracker: running tasks teach the learner too (censoring)', () => {
  it('reports each task found running, at its age then, and lets go of it when it finishes', async () => {
    const timings = new LearnedTimings({ clock: new ManualClock(), rebuildMs: 0 });
    const hh = await harness({ durationMs: () => 50_000, tracker: { timings } });
    hh.tracker.start();
    const job = await runningJob(hh);
    hh.tracker.track(job);
    await hh.clock.advance(40_000); // checked at 30 s and every 2.8 s since: still running
    const m = timings.model('grid', 'fast');
    expect(m.running).toBe(1);
    expect(m.count).toBe(0);
    await hh.clock.advanceUntil(() => hh.finished.some((f) => f.jobId === job.id), 300_000, 500);
    const after = timings.model('grid', 'fast');
    expect(after.running).toBe(0);
    expect(after.count).toBe(1);
  });
});

describe('Tracker poll order under pressure', () => {
  /** Jobs that have been running for `ageS` seconds and were polled before (so due at once after a restart). */
  async function agedJobs(hh: Harness, n: number, ageS: number, speed: Speed = 'fast'): Promise<Job[]> {
    const out: Job[] = [];
    for (let i = 0; i < n; i++) out.push(await runningJob(hh, { polls: 1, submittedAt: hh.clock.now() - ageS * 1000 }, speed));
    return out;
  }

  it('gives the budget to the jobs likeliest to have finished, not to the first scheduled', async () => {
    const hh = await harness({ durationMs: () => 600_000, tracker: { maxPollsPerSecond: 1, pollOrder: 'likely-done' } });
    const young = await agedJobs(hh, 5, 31); // just into the 30–100 s window: ~1 % done
    const old = await agedJobs(hh, 5, 95); // near its end: ~93 % done
    for (const job of [...young, ...old]) hh.tracker.track(job); // the young ones are first in line
    hh.tracker.start();
    await hh.clock.advance(4_500);
    const firstFive = hh.sim.requests.filter((r) => r.endpoint === 'recordInfo').slice(0, 5).map((r) => r.query['taskId']);
    expect(firstFive).toEqual(old.map((j) => j.taskId));
  });

  /** Five young jobs first in line, five old ones behind; the first five checks' task ids and the two groups. */
  async function firstFiveChecks(tracker: NonNullable<Parameters<typeof harness>[0]>['tracker']) {
    const hh = await harness({ durationMs: () => 600_000, tracker: { maxPollsPerSecond: 1, ...tracker } });
    const young = await agedJobs(hh, 5, 31);
    const old = await agedJobs(hh, 5, 95);
    for (const job of [...young, ...old]) hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(4_500);
    const firstFive = hh.sim.requests.filter((r) => r.endpoint === 'recordInfo').slice(0, 5).map((r) => r.query['taskId']);
    return { firstFive, young: young.map((j) => j.taskId), old: old.map((j) => j.taskId) };
  }

  it("with pollOrder 'due' keeps first-come order", async () => {
    const { firstFive, young } = await firstFiveChecks({ pollOrder: 'due' });
    expect(firstFive).toEqual(young);
  });

  it("'auto' (the default) keeps first-come order while few polls wait (10 ≤ 4 dense intervals × 1/s)", async () => {
    const { firstFive, young } = await firstFiveChecks({});
    expect(firstFive).toEqual(young);
  });

  it("'auto' ranks by likely-done once more polls wait than overloadAt", async () => {
    const { firstFive, old } = await firstFiveChecks({ overloadAt: 3 });
    expect(firstFive).toEqual(old);
  });

  /**
   * 20 turbo jobs past their window keep a budget of 1 poll/s busy with better odds than one relaxed job
   * early in its long window: when that cold job was checked.
   */
  async function coldJobChecks(tracker: Partial<TrackerOptions>, forMs: number): Promise<{ hh: Harness; times: number[] }> {
    const hh = await harness({ durationMs: () => 3_600_000, tracker });
    const hot = await agedJobs(hh, 20, 45, 'turbo');
    const [cold] = await agedJobs(hh, 1, 95, 'relaxed');
    for (const job of [...hot, cold!]) hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(forMs);
    return { hh, times: hh.recordInfoTimes(cold!.taskId!) };
  }

  it('starves nobody by default: a job passed over is checked within 3 minutes', async () => {
    const { times } = await coldJobChecks({ maxPollsPerSecond: 1, overloadAt: 3 }, 600_000);
    expect(times.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(182_000);
  });

  it('never starves a job: each is checked at least every starveAfterMs (plus a budget slot)', async () => {
    const { hh, times } = await coldJobChecks({ maxPollsPerSecond: 1, starveAfterMs: 20_000, pollOrder: 'likely-done' }, 180_000);
    expect(times.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(22_000);
    // The budget holds throughout.
    const all = hh.recordInfoTimes();
    for (const t of all) expect(all.filter((u) => u >= t && u < t + 1_000).length).toBeLessThanOrEqual(1);
  });

  it.each([
    ['due', 'first-come order still lets a callback (pollSoon) go first'],
    ['likely-done', 'a callback (pollSoon) goes before every ranked job'],
  ] as const)("with pollOrder '%s': %s", async (pollOrder, _what) => {
    const hh = await harness({ durationMs: () => 600_000, tracker: { maxPollsPerSecond: 1, pollOrder } });
    const old = await agedJobs(hh, 5, 95);
    const [young] = await agedJobs(hh, 1, 5);
    for (const job of [...old, young!]) hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(0);
    hh.tracker.pollSoon(young!.id);
    await hh.clock.advance(1_500);
    const order = hh.sim.requests.filter((r) => r.endpoint === 'recordInfo').map((r) => r.query['taskId']);
    expect(order.indexOf(young!.taskId!)).toBe(1); // right after the poll already under way
  });
});
