/**
 * The one-time move of a round-1 database into the SQL tables, on a file the
 * round-1 store really wrote (test/fixtures/legacy-r1.sqlite, made by
 * test/fixtures/make-legacy-fixture.ts at commit a02ce04): every job, ledger
 * line, queued job, button claim and setting is there after the new version
 * opens it; it runs once; bad rows are skipped and counted.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelSettings } from '../../src/domain/team/settings.js';
import { buildUsageReport } from '../../src/domain/team/usage.js';
import { decodeKeyvValue, parseLegacyIndexKey } from '../../src/store/legacyKeyv.js';
import { LEGACY_DONE_KEY, legacyLogFields, type LegacyMigrationReport } from '../../src/store/legacyMigration.js';
import { openStore, type OpenedStore } from '../../src/store/store.js';
import { LEGACY } from '../fixtures/legacy.js';

const FIXTURE = new URL('../fixtures/legacy-r1.sqlite', import.meta.url);
const dirs: string[] = [];
const stores: OpenedStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A private copy of the round-1 file (the committed fixture is never written). */
function legacyCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'teamjourney-legacy-'));
  dirs.push(dir);
  const file = join(dir, 'teamjourney.sqlite');
  copyFileSync(FIXTURE, file);
  return file;
}

async function open(file: string): Promise<{ store: OpenedStore; reports: LegacyMigrationReport[] }> {
  const reports: LegacyMigrationReport[] = [];
  const store = await openStore(`sqlite://${file}`, { onLegacyMigration: (r) => reports.push(r) });
  stores.push(store);
  return { store, reports };
}

describe('moving a round-1 database into SQL', () => {
  it('moves every job, ledger line, queued job and button claim, keeps the settings, and logs the counts', async () => {
    const { store, reports } = await open(legacyCopy());
    expect(reports).toHaveLength(1);
    expect(legacyLogFields(reports[0]!)).toEqual({ jobs: 6, taskIndex: 4, claims: 1, ledger: 6, queued: 1, settings: 3 });

    const J = LEGACY.jobs;
    const grid = await store.jobs.require(J.gridA);
    expect(grid).toMatchObject({ state: 'succeeded', delivered: true, pressed: ['upscale:1'], origin: { messageId: LEGACY.messages.gridA } });
    expect(grid.results).toHaveLength(4);
    expect(await store.jobs.require(J.upscaleA2)).toMatchObject({ kind: 'upscale', parent: { jobId: J.gridA, position: 1, action: 'upscale' } });
    expect(await store.jobs.require(J.runningB)).toMatchObject({ state: 'running' });
    expect(await store.jobs.require(J.queuedC)).toMatchObject({ state: 'queued' });
    expect(await store.jobs.require(J.failedD)).toMatchObject({ state: 'failed', error: { code: '500' } });
    expect(await store.jobs.require(J.cancelledE)).toMatchObject({ state: 'cancelled' });

    // Callbacks and the tracker find jobs by task id; resume finds the unfinished ones.
    expect((await store.jobs.findByTaskId(grid.taskId!))?.id).toBe(J.gridA);
    expect((await store.jobs.listActive()).map((j) => j.id)).toEqual([J.runningB, J.queuedC]);

    for (const id of Object.values(J)) expect(await store.team.ledger.get(id), id).toMatchObject({ jobId: id, guildId: LEGACY.guildId });
    expect(await store.team.ledger.get(J.upscaleA2)).toMatchObject({ kind: 'upscale', credits: 4, state: 'succeeded' });
    expect((await store.team.ledger.open()).map((e) => e.jobId).sort()).toEqual([J.queuedC, J.runningB].sort());

    expect((await store.team.queues.list(LEGACY.channel2)).map((j) => j.id)).toEqual([J.queuedC]);
    expect(await store.team.queues.position(LEGACY.channel2, J.queuedC)).toBe(1);

    // U2 on the old grid was used: pressing it again points at the existing upscale; U1 is free.
    expect(await store.jobs.claimAction(J.gridA, 'upscale', 1, 'newchild00001')).toBe(J.upscaleA2);
    expect(await store.jobs.claimAction(J.gridA, 'upscale', 0, 'newchild00002')).toBeNull();
    expect(await store.jobs.claimAction(J.gridA, 'upscale', 0, 'newchild00003')).toBe('newchild00002');

    const settings = new ChannelSettings(store.settings);
    const c1 = await settings.resolve(LEGACY.guildId, LEGACY.channel1);
    expect(c1.values).toMatchObject({ aspectRatio: '16:9', monthlyBudget: 5000, userDailyJobs: 40, bannedWords: ['spoiler'], stylize: 250 });
    expect((await settings.resolve(LEGACY.guildId, LEGACY.channel2)).values).toMatchObject({ maxConcurrent: 1, buttons: 'author' });
    expect(await settings.explicit('server', LEGACY.guildId)).toEqual({ version: '7', stylize: 250, alertChannelId: LEGACY.channel2, lowBalanceThreshold: 500 });
    // Settings and the alert state now live in their tables (009_settings), copied from keyv.
    expect(await store.alertStates.get(LEGACY.guildId)).toMatchObject({ alerted: true, threshold: 500 });
    // The moved lines reach the daily roll-up: a server-wide report (read from it) equals the lines'.
    const lines = await store.team.ledger.query({ guildId: LEGACY.guildId });
    expect(lines.length).toBeGreaterThan(0);
    for (const countFailed of [false, true]) {
      expect(await store.team.ledger.report({ guildId: LEGACY.guildId }, countFailed)).toEqual(buildUsageReport(lines, countFailed));
    }
  });

  it('runs once: a second start moves nothing and changes nothing', async () => {
    const file = legacyCopy();
    const first = await open(file);
    await first.store.jobs.update(LEGACY.jobs.runningB, (j) => ({ ...j, polls: 99 }));
    await first.store.close();
    stores.splice(stores.indexOf(first.store), 1);

    const second = await open(file);
    expect(second.reports).toEqual([]);
    expect((await second.store.jobs.require(LEGACY.jobs.runningB)).polls).toBe(99);
    const done = await second.store.sql.db.selectFrom('store_info').select('value').where('key', '=', LEGACY_DONE_KEY).executeTakeFirstOrThrow();
    expect(JSON.parse(done.value)).toMatchObject({ jobs: { moved: 6 }, ledger: { moved: 6 } });
  });

  it('skips and counts rows it cannot use, and moves the rest', async () => {
    const file = legacyCopy();
    const raw = new Database(file);
    const put = raw.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
    put.run('jobs:broken1', '{not json');
    put.run('jobs:broken2', JSON.stringify({ value: { id: 'broken2', kind: 'grid' } }));
    put.run('jobs:expired1', JSON.stringify({ value: { id: 'expired1' }, expires: 1 }));
    put.run('ledger:broken3', JSON.stringify({ value: { jobId: 'broken3', credits: 'lots' } }));
    put.run('index:action:legacygrida01:upscale:2', JSON.stringify({ value: 42 }));
    put.run('index:task:orphan-task', JSON.stringify({ value: 'nosuchjob' }));
    put.run('queue:1300000000000000009', JSON.stringify({ value: 'not a list' }));
    raw.close();

    const { store, reports } = await open(file);
    const r = reports[0]!;
    expect(r.jobs).toEqual({ moved: 6, skipped: 3, existing: 0 });
    expect(r.ledger).toEqual({ moved: 6, skipped: 1, existing: 0 });
    expect(r.claims).toEqual({ moved: 1, skipped: 1, existing: 0 });
    expect(r.taskIndex).toEqual({ moved: 4, skipped: 1, existing: 0 });
    expect(r.queue).toEqual({ moved: 1, skipped: 1, existing: 0 });
    expect(legacyLogFields(r)).toMatchObject({ jobs: 6, jobsSkipped: 3, ledgerSkipped: 1 });
    expect(await store.jobs.get('broken2')).toBeUndefined();
  });

  it('finds nothing to move in a new database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teamjourney-legacy-'));
    dirs.push(dir);
    const { reports } = await open(join(dir, 'fresh.sqlite'));
    expect(reports).toEqual([]);
  });
});

describe('reading the keyv layout', () => {
  it('decodes keyv envelopes as @keyv/serialize wrote them', () => {
    expect(decodeKeyvValue('{"value":{"a":"::x"}}', 0)).toEqual({ value: { a: ':x' } });
    expect(decodeKeyvValue('{"value":1,"expires":5}', 10)).toEqual({ value: undefined, problem: 'expired' });
    expect(decodeKeyvValue('{"value":1,"expires":50}', 10)).toEqual({ value: 1 });
    expect(decodeKeyvValue('nope', 0)).toEqual({ value: undefined, problem: 'malformed' });
    expect(decodeKeyvValue(null, 0)).toEqual({ value: undefined, problem: 'malformed' });
  });

  it('tells the index keys apart', () => {
    expect(parseLegacyIndexKey('active')).toEqual({ kind: 'active' });
    expect(parseLegacyIndexKey('task:abc')).toEqual({ kind: 'task', taskId: 'abc' });
    expect(parseLegacyIndexKey('action:j1:vary:3')).toEqual({ kind: 'action', parentJobId: 'j1', action: 'vary', position: 3 });
    expect(parseLegacyIndexKey('action:j1:vary')).toEqual({ kind: 'unknown' });
  });
});
