/**
 * The whole loop: the real job service, tracker and KIE client against the
 * local KIE server, with team policy as the admission. After a mixed run
 * (grids at every speed, video SD and HD, upscale, vary, refusals, a queue,
 * a cancel, a failed task and a refused create) the ledger's credits must
 * equal what the requests KIE actually accepted imply under the same price
 * table — and the queue must have survived a restart in the middle.
 */
import { makeOrigin } from '../../support/jobs.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job, JobKind } from '../../../src/domain/job.js';
import type { Admission } from '../../../src/domain/ports.js';
import type { NewJob } from '../../../src/domain/service.js';
import { DEFAULT_PRICES, estimateCredits } from '../../../src/domain/pricing.js';
import { sumCredits } from '../../../src/domain/team/ledger.js';
import { channelUsage } from '../../../src/domain/team/policy.js';
import type { KieTaskRequest, Speed, VideoBatchSize } from '../../../src/providers/kie/schemas.js';
import type { KieSimulator, RecordedRequest } from '../../../src/providers/kie/simulator/index.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { startHarness, type Harness } from '../../support/domainHarness.js';
import { ALICE, BOB, CHANNEL, GUILD, OTHER_CHANNEL, openTeam, tempSqlite, type Team } from './fixtures.js';

const IMAGE = 'https://example.com/still.png';

interface DraftSpec {
  id: string;
  kind: JobKind;
  channelId: string;
  userId: string;
  speed?: Speed | null;
  batch?: VideoBatchSize;
  prompt?: string;
  parentTaskId?: string;
  parentSpeed?: Speed;
}

/** A job as a command or button would build it, priced with the default table. */
function draft(s: DraftSpec): NewJob {
  const prompt = s.prompt ?? `picture ${s.id}`;
  const speed = s.kind === 'video' || s.kind === 'video_hd' ? null : (s.speed ?? s.parentSpeed ?? 'fast');
  let request: KieTaskRequest;
  switch (s.kind) {
    case 'grid':
      request = { op: 'generate', body: { taskType: 'mj_txt2img', prompt, speed: speed ?? 'fast' } };
      break;
    case 'video':
    case 'video_hd':
      request = {
        op: 'generate',
        body: { taskType: s.kind === 'video' ? 'mj_video' : 'mj_video_hd', prompt, fileUrls: [IMAGE], motion: 'high', videoBatchSize: s.batch ?? 1 },
      };
      break;
    case 'upscale':
      request = { op: 'upscale', body: { taskId: s.parentTaskId ?? '', imageIndex: 0 } };
      break;
    case 'vary':
      request = { op: 'vary', body: { taskId: s.parentTaskId ?? '', imageIndex: 1 } };
      break;
    default:
      throw new Error(`not used here: ${s.kind}`);
  }
  return {
    id: s.id,
    kind: s.kind,
    request,
    promptText: prompt,
    speed,
    estimatedCredits: estimateCredits(s.kind, { speed, videoBatchSize: s.batch ?? null }, DEFAULT_PRICES),
    origin: makeOrigin({ guildId: GUILD, channelId: s.channelId, userId: s.userId, applicationId: 'app', interactionToken: null, interactionAt: null }),
    parent: null,
  };
}

/** What an accepted create request costs under the same table, read from what KIE received. */
function impliedCredits(r: RecordedRequest, sim: KieSimulator): number {
  const body = r.body as Record<string, unknown>;
  switch (r.endpoint) {
    case 'generate': {
      const batch = (body['videoBatchSize'] as VideoBatchSize | undefined) ?? 1;
      if (body['taskType'] === 'mj_video') return estimateCredits('video', { speed: null, videoBatchSize: batch });
      if (body['taskType'] === 'mj_video_hd') return estimateCredits('video_hd', { speed: null, videoBatchSize: batch });
      return estimateCredits('grid', { speed: (body['speed'] as Speed | undefined) ?? null });
    }
    case 'upscale':
      return estimateCredits('upscale', { speed: null });
    case 'vary': {
      // KIE runs a vary at its parent's speed.
      const parent = sim.tasks.get(String(body['taskId']));
      return estimateCredits('vary', { speed: parent?.speed ?? null });
    }
    case 'extend':
      return estimateCredits('extend', { speed: null });
    default:
      return 0;
  }
}

const CREATES = new Set(['generate', 'upscale', 'vary', 'extend']);

describe('a mixed run against the local KIE server', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("ends with the ledger's credits equal to what KIE's accepted requests imply", async () => {
    const db = tempSqlite();
    cleanups.push(db.cleanup);
    let h!: Harness;
    const clock = { now: () => h.clock.now() };
    const startable = (jobs: Job[]) => {
      for (const j of jobs) void h.service.startQueued(j);
    };
    let teamStore = await openStore(db.url);
    let team: Team = await openTeam(teamStore, clock, { onStartable: startable });
    // The service keeps its admission across its own restart; this one always asks the current policy.
    const admission: Admission = {
      admit: (job) => team.policy.admit(job),
      admitBatch: (jobs) => team.policy.admitBatch(jobs),
      record: (job) => team.policy.record(job),
      release: (job) => team.policy.release(job),
    };
    h = await startHarness({ admission, durationMs: () => 45_000 });
    cleanups.push(() => h.close(), () => teamStore.close());

    await team.settings.set('channel', CHANNEL, { maxConcurrent: 2, dailyBudget: 60, bannedWords: ['gore'] });

    const submit = (s: DraftSpec) => h.service.submit(draft(s));
    const inA = { channelId: CHANNEL };
    const inB = { channelId: OTHER_CHANNEL };

    // Channel A: two run, then a queue; a banned word and an over-budget job are refused.
    expect((await submit({ id: 'a1', kind: 'grid', speed: 'fast', userId: ALICE, ...inA })).kind).toBe('running'); // 8
    expect((await submit({ id: 'a2', kind: 'grid', speed: 'turbo', userId: BOB, ...inA })).kind).toBe('running'); // 16
    expect(await submit({ id: 'a3', kind: 'grid', speed: 'relaxed', userId: ALICE, ...inA })).toMatchObject({ kind: 'queued', position: 1 }); // 3
    expect(await submit({ id: 'a4', kind: 'grid', speed: 'fast', userId: BOB, ...inA })).toMatchObject({ kind: 'queued', position: 2 }); // 8
    expect(await submit({ id: 'a5', kind: 'grid', prompt: 'Gore and more', userId: BOB, ...inA })).toMatchObject({ kind: 'rejected' });
    expect(await submit({ id: 'a6', kind: 'grid', speed: 'turbo', userId: ALICE, ...inA })).toMatchObject({ kind: 'queued', position: 3 }); // 16 → 51
    const over = await submit({ id: 'a7', kind: 'grid', speed: 'turbo', userId: ALICE, ...inA });
    expect(over).toEqual({ kind: 'rejected', reason: expect.stringContaining(`has 9 of 60 credits left today; a turbo job costs 16`) });

    // Bob cancels his queued job: it leaves the line and gives its credits back.
    await h.service.cancel('a4', BOB);
    expect((await team.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['a3', 'a6']);

    // Channel B: video SD ×2, a video HD that fails at KIE, a grid whose create KIE refuses.
    expect((await submit({ id: 'b1', kind: 'video', batch: 2, userId: ALICE, ...inB })).kind).toBe('running'); // 30
    h.sim.inject({ kind: 'taskFailure', successFlag: 2 });
    expect((await submit({ id: 'b2', kind: 'video_hd', userId: BOB, ...inB })).kind).toBe('running'); // 45, fails later
    h.sim.inject({ kind: 'code', code: 402, endpoint: 'create' });
    expect((await submit({ id: 'b3', kind: 'grid', speed: 'fast', userId: BOB, ...inB })).kind).toBe('failed'); // never charged

    // Restart the team side mid-run: queue and ledger come back from the SQLite file.
    await teamStore.close();
    teamStore = await openStore(db.url);
    team = await openTeam(teamStore, clock, { onStartable: startable });
    await h.restart();
    await team.policy.reconcile(async (id) => (await h.repo.get(id)) !== undefined);
    await h.service.resume();
    for (const job of await team.policy.resume()) await h.service.startQueued(job);
    h.tracker.start();
    expect((await team.policy.waiting(CHANNEL)).map((j) => j.id)).toEqual(['a3', 'a6']);

    await h.clock.advance(10 * 60_000);

    // Button jobs on a finished grid: an upscale and a vary (at the parent's speed).
    const a1 = await h.repo.require('a1');
    expect(a1.state).toBe('succeeded');
    expect((await submit({ id: 'a8', kind: 'upscale', parentTaskId: a1.taskId ?? '', parentSpeed: 'fast', userId: BOB, ...inA })).kind).toBe('running'); // 4
    expect((await submit({ id: 'a9', kind: 'vary', parentTaskId: a1.taskId ?? '', parentSpeed: 'fast', userId: BOB, ...inA })).kind).toBe('running'); // 8
    await h.clock.advance(10 * 60_000);

    // Everything ended.
    const states = Object.fromEntries((await team.ledger.query()).map((e) => [e.jobId, e.state]));
    expect(states).toEqual({
      a1: 'succeeded',
      a2: 'succeeded',
      a3: 'succeeded',
      a4: 'cancelled',
      a6: 'succeeded',
      a8: 'succeeded',
      a9: 'succeeded',
      b1: 'succeeded',
      b2: 'failed',
      b3: 'failed',
    });

    // The ledger against KIE: every accepted create is one ledger line with its taskId, and the credits agree.
    const accepted = h.sim.requests.filter((r) => CREATES.has(r.endpoint) && r.responseCode === 200);
    const implied = accepted.reduce((sum, r) => sum + impliedCredits(r, h.sim), 0);
    const charged = (await team.ledger.query()).filter((e) => e.taskId !== null);
    expect(charged.map((e) => e.taskId).sort()).toEqual(accepted.map((r) => r.taskId).sort());
    expect(sumCredits(charged, true)).toBe(implied);
    expect(implied).toBe(8 + 16 + 3 + 16 + 4 + 8 + 30 + 45);

    // Budgets leave out failed (b2, b3) and cancelled (a4) lines by default.
    expect(sumCredits((await team.ledger.query()), false)).toBe(implied - 45);
    const a = channelUsage((await team.ledger.channel(CHANNEL)), { userId: ALICE, now: h.clock.now(), countFailed: false });
    expect(a).toMatchObject({ spentToday: 8 + 16 + 3 + 16 + 4 + 8, active: 0, waiting: 0 });
  });
});
