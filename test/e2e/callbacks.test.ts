/**
 * KIE callbacks end to end: a signed callback from the local KIE server
 * makes the tracker read the task at once, so results arrive without
 * waiting for the next scheduled poll. The body itself is never used as the
 * result: the tracker still reads record-info.
 */
import { describe, expect, it } from 'vitest';
import { useE2E, str, type E2E } from './harness.js';

const start = useE2E();

// A fast grid's first poll is at 30 s and the next 2.8 s later; this one finishes in between.
const FINISHES_AT = 31_000;

const recordInfoReads = (e: E2E) => e.sim.requests.filter((r) => r.endpoint === 'recordInfo').length;

describe('KIE callbacks', () => {
  it('sends callBackUrl with the create and delivers as soon as the signed callback arrives', async () => {
    const e = (await start({ callbacks: true, durationMs: () => FINISHES_AT }));
    const cmd = await e.slash('imagine', [str('prompt', 'a lighthouse at dusk')]);
    const create = e.creates()[0]!;
    expect((create.body as { callBackUrl?: string }).callBackUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/kie\/callback$/);

    await e.clock.advance(30_000);
    await e.settle();
    expect(recordInfoReads(e)).toBe(1); // the scheduled first poll: still generating
    await e.clock.advance(FINISHES_AT - 30_000);
    await e.sim.fireCallbacks();
    // No virtual time passes: the callback alone (over real HTTP) must bring the results.
    await expect
      .poll(async () => {
        await e.clock.advance(0);
        return e.fake.originalFor(cmd.token)?.attachments.length ?? 0;
      })
      .toBe(4);
    expect(e.clock.now()).toBe(e.sim.tasks.get(create.taskId!)!.finishAt);
    // Delivered at 31 s, before the next scheduled poll at 32.8 s, after reading record-info once more.
    expect(recordInfoReads(e)).toBe(2);
  });

  it('a forged callback for the task only causes a harmless early read', async () => {
    const e = (await start({ callbacks: true, durationMs: () => 60_000 }));
    const cmd = await e.slash('imagine', [str('prompt', 'a lighthouse at dusk')]);
    const job = (await e.jobs())[0]!;
    e.app.taskMayBeDone(job.taskId!);
    await e.settle();
    expect((await e.job(job.id)).state).toBe('running');
    expect(e.fake.originalFor(cmd.token)?.attachments.length ?? 0).toBe(0);
  });
});
