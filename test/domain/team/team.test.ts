import { describe, expect, it } from 'vitest';
import { Team } from '../../../src/domain/team/team.js';
import type { TeamView } from '../../../src/discord/context.js';
import { CHANNEL, GUILD, makeJob, memoryStore } from './fixtures.js';
import { ManualClock } from '../../support/manualClock.js';

describe('Team', () => {
  it('is the TeamView handlers read channel defaults from', async () => {
    const store = await memoryStore();
    const team = await Team.open({ store, clock: new ManualClock(), alertSink: { send: async () => {} } });
    const view: TeamView = team; // compile-time: Team satisfies the context's TeamView
    await team.settings.set('server', GUILD, { speed: 'relaxed', stylize: 250, videoBatchSize: 2 });
    await team.settings.set('channel', CHANNEL, { buttons: 'author', hdAllowed: false, videoHd: true });
    expect(await view.channel(GUILD, CHANNEL)).toEqual({
      enabled: true,
      defaults: { version: '7', aspectRatio: '1:1', speed: 'relaxed', stylization: 250 },
      buttons: 'author',
      videoAllowed: true,
      hdAllowed: false,
      videoHd: false,
      videoBatchSize: 2,
      confirmAbove: null,
    });
    await store.close();
  });

  it('wires the policy to the same ledger and settings', async () => {
    const store = await memoryStore();
    const team = await Team.open({ store, clock: new ManualClock(), alertSink: { send: async () => {} } });
    await team.settings.set('channel', CHANNEL, { enabled: false });
    expect((await team.policy.admit(makeJob())).verdict).toBe('reject');
    await team.settings.set('channel', CHANNEL, { enabled: true });
    const job = makeJob();
    expect((await team.policy.admit(job)).verdict).toBe('run');
    expect((await team.ledger.get(job.id))?.state).toBe('pending');
    await store.close();
  });
});
